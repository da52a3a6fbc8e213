"""GIS layers of a run folder (GeoParquet; GeoPackage and GeoJSON on request): ``townsim gis``."""
