"""Timetabled buses and ferries: scenario models, timetables, routing, GTFS, loads, line ranking."""
