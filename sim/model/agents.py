"""Mesa agents that are views onto rows of the model's columnar state."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from sim.world.world import FACILITY_KINDS

if TYPE_CHECKING:
    from sim.model.model import AccessModel

__all__ = ["FacilityAgent", "Resident"]


class Resident(mesa.Agent):
    """A resident: reads and writes its row of ``model.residents``; holds no state of its own."""

    model: AccessModel

    def __init__(self, model: AccessModel, row: int) -> None:
        super().__init__(model)
        self.row = row

    @property
    def village(self) -> str:
        """Village id the resident lives in."""
        return self.model.world.village_ids[self.model.residents.village[self.row]]

    @property
    def former_unit(self) -> str:
        """Former township id."""
        return self.model.world.unit_ids[self.model.residents.unit[self.row]]

    @property
    def unit(self) -> str:
        """Current (post-merger) unit id."""
        return self.model.world.new_unit_ids[self.model.residents.new_unit[self.row]]

    @property
    def age_band(self) -> str:
        """Age band label."""
        return self.model.world.age_bands[self.model.residents.band[self.row]]

    @property
    def modes(self) -> list[str]:
        """Modes the resident has access to."""
        return [m for i, m in enumerate(self.model.tables.modes) if self.model.residents.owns[i, self.row]]

    @property
    def expected_wait_min(self) -> dict[str, float]:
        """Wait (min) expected at the last facility used, per service group."""
        res = self.model.residents
        return {
            g: float(res.mem_wait[i, self.row])
            if res.mem_fac[i, self.row] >= 0
            else self.model.prior_wait_min
            for i, g in enumerate(self.model.world.groups)
        }


class FacilityAgent(mesa.Agent):
    """A school, clinic, hall or service point; a view onto the world's facility arrays."""

    model: AccessModel

    def __init__(self, model: AccessModel, row: int) -> None:
        super().__init__(model)
        self.row = row

    @property
    def facility_id(self) -> str:
        """Scenario id."""
        return self.model.world.fac_ids[self.row]

    @property
    def kind(self) -> str:
        """school, clinic, hall or service_point."""
        return FACILITY_KINDS[self.model.world.fac_kind[self.row]]

    @property
    def servers(self) -> int:
        """Windows or doctors."""
        return int(self.model.world.fac_servers[self.row])

    @property
    def served_today(self) -> int:
        """Visitors served on the last simulated day."""
        return int(self.model.facility_served_today[self.row])
