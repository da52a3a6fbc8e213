"""The planner's page: a Flask app on 127.0.0.1 that edits a plan, runs it against the base, shows results.

Everything the app writes goes under its folder (``--folder``): ``plans/`` (overlay YAML, named by
the hash of their content), ``runs/`` (the first seed's run folders) and ``reports/``. The page never
names a file: downloads are looked up by generated ids inside that folder.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, abort, jsonify, request, send_file

from sim.app.geo import map_data
from sim.app.plan import ACTIONS, Choices, choices_of, overlay_from_edits, save_overlay
from sim.app.security import PageGuard, RequestError, parse_run_request
from sim.app.text import TEXT
from sim.errors import SimError
from sim.scenario.load import LoadedScenario
from sim.world.world import World, build_world

if TYPE_CHECKING:
    from sim.app.posterior import PosteriorRuns
    from sim.app.replicate import Replicator

__all__ = ["AppState", "create_app"]

_PLAN_ID = re.compile(r"^plan_[0-9a-f]{12}$")


@dataclass
class Job:
    """One Run: the changed plan against the base over ``seeds``."""

    id: str
    plan: Path | None
    plan_loaded: LoadedScenario | None  # base + the plan's overlay
    seeds: list[int]
    days: int
    state: str = "running"  # running / done / cancelled / error
    done: int = 0
    total: int = 0
    started: float = field(default_factory=time.perf_counter)
    wall_s: float | None = None
    error: str | None = None
    results: dict[str, Any] | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None


class AppState:
    """The base scenario, what can be changed, the worker pool and the jobs."""

    def __init__(
        self,
        loaded: LoadedScenario,
        *,
        scenario_label: str,
        candidates: Path | None,
        folder: Path,
        workers: int | None = None,
        posterior: PosteriorRuns | None = None,
    ) -> None:
        self.loaded = loaded
        self.posterior = posterior  # each Run at posterior draws (townsim app --posterior)
        self.scenario_label = scenario_label
        self.folder = folder.resolve()
        self.choices: Choices = choices_of(loaded, candidates)
        self.world = build_world(loaded)
        self.map = map_data(self.world, loaded.scenario, self.choices.candidates)
        self.workers = workers
        self.jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._replicator: Replicator | None = None

    @property
    def replicator(self) -> Replicator:
        """The runner of replications, made on first use (its imports and workers cost seconds)."""
        with self._lock:
            if self._replicator is None:
                from sim.app.replicate import Replicator

                self._replicator = Replicator(self.loaded, workers=self.workers)
            return self._replicator

    def warm_up(self) -> None:
        """Once the page is open: make the runner, then the base's replications with the page's
        default settings, in the background (a first Run with them runs only its plan)."""
        if self.posterior is not None:  # every Run draws its own parameters: no base to reuse
            return
        defaults = json.loads(self.init_json)["defaults"]

        def work() -> None:
            self.replicator.warm(
                n=defaults["replications"],
                seed=defaults["seed"],
                days=defaults["days"],
                runs_dir=self.folder / "runs",
            )

        threading.Thread(target=work, daemon=True).start()

    @cached_property
    def init_json(self) -> bytes:
        """What the page loads first (texts, map, choices, defaults), serialised once."""
        sim = self.loaded.scenario.simulation
        data = {
            "scenario": self.scenario_label,
            "name": self.loaded.scenario.name,
            "title": self.loaded.scenario.title.model_dump() if self.loaded.scenario.title else None,
            "text": TEXT,
            "map": self.map,
            "candidates": {
                lid: {"zh": s.get("zh") or s.get("en") or lid, "en": s.get("en") or lid}
                for lid, s in self.choices.candidates.items()
            },
            "facilities": [asdict(f) for f in self.choices.facilities],
            "actions": ACTIONS,
            "hours": self.choices.hours,
            "defaults": {"replications": 10, "days": 91, "seed": sim.seed},
        }
        return json.dumps(data, ensure_ascii=False).encode("utf-8")

    def close(self) -> None:
        """Cancel running jobs and the base's warming and wait (up to 10 s) until their worker
        processes are stopped."""
        if self._replicator is not None:
            self._replicator.stop_warming()
        for job in self.jobs.values():
            job.cancel.set()
        for job in self.jobs.values():
            if job.thread is not None:
                job.thread.join(timeout=10)

    # --- plans -------------------------------------------------------------------------------
    def plan_file(self, edits: dict[str, Any]) -> tuple[Path, LoadedScenario] | None:
        """Validated overlay file of the page's edits and the changed plan; ``None`` when nothing
        differs from the base.

        Raises:
            ScenarioError: as ``townsim validate --overlay`` would.
        """
        overlay = overlay_from_edits(self.choices, edits)
        path, loaded = save_overlay(
            overlay,
            scenario=self.loaded.path,
            scenario_label=self.scenario_label,
            folder=self.folder / "plans",
        )
        return (path, loaded) if overlay else None

    def overlay_path(self, plan_id: str) -> Path:
        """An overlay file the app wrote, by id (404 for anything else)."""
        if not _PLAN_ID.match(plan_id):
            abort(404)
        path = self.folder / "plans" / f"{plan_id}.yaml"
        if not path.is_file():
            abort(404)
        return path

    # --- runs ----------------------------------------------------------------------------------
    def start(
        self, plan: tuple[Path, LoadedScenario] | None, *, replications: int, days: int, seed: int
    ) -> Job:
        """Start a Run in the background (a running one is cancelled first)."""
        from sim.replications import derive_seeds

        with self._lock:
            for old in self.jobs.values():
                old.cancel.set()
            path, loaded = plan if plan is not None else (None, None)
            job = Job(uuid.uuid4().hex[:12], path, loaded, derive_seeds(seed, replications), days)
            self.jobs[job.id] = job
        job.thread = threading.Thread(target=self._work, args=(job,), daemon=True)
        job.thread.start()
        return job

    def _work(self, job: Job) -> None:
        from sim.app.results import results_json

        def progress(done: int, total: int) -> None:
            job.done, job.total = done, total

        try:
            plan = None
            if job.plan is not None and job.plan_loaded is not None:
                plan = (job.plan.stem, job.plan_loaded)
            if self.posterior is not None:
                self._work_posterior(job, progress)
                return
            out = self.replicator.run_pair(
                plan,
                n=len(job.seeds),
                seed=job.seeds[0],
                days=job.days,
                runs_dir=self.folder / "runs",
                progress=progress,
                cancel=job.cancel,
            )
            if out is None:
                job.state = "cancelled"
                return
            plan_world = self.world if plan is None else build_world(plan[1])
            job.results = results_json(
                *out,
                servers=(_servers(self.world), _servers(plan_world)),
                first_run=self.run_dir(job, "plan"),
                raw=(self.loaded if plan is None else plan[1]).raw,
            )
            job.state = "done"
        except SimError as exc:
            job.error, job.state = f"townsim: error: {exc}", "error"
        except Exception as exc:  # shown on the page rather than lost in a thread
            job.error, job.state = f"townsim: error: {type(exc).__name__}: {exc}", "error"
        finally:
            job.wall_s = round(time.perf_counter() - job.started, 1)

    def _work_posterior(self, job: Job, progress: Any) -> None:
        """A Run at the posterior draws: the first draw's results, the answer's ``posterior`` block."""
        from sim.app.results import results_json

        assert self.posterior is not None
        out = self.posterior.run_pair(
            self.loaded,
            (job.plan.stem, job.plan) if job.plan is not None else None,
            replications=len(job.seeds),
            seed=job.seeds[0],
            days=job.days,
            runs_dir=self.runs_dir,
            progress=progress,
            cancel=job.cancel,
        )
        if out is None:
            job.state = "cancelled"
            return
        (base, plan), posterior = out
        plan_world = self.world if job.plan_loaded is None else build_world(job.plan_loaded)
        results = results_json(
            base,
            plan,
            servers=(_servers(self.world), _servers(plan_world)),
            first_run=self.run_dir(job, "plan"),
            raw=(job.plan_loaded or self.loaded).raw,
        )
        if results.get("answer") is not None:
            results["answer"]["posterior"] = posterior
        results["posterior"] = posterior
        job.results = results
        job.state = "done"

    @property
    def runs_dir(self) -> Path:
        """Where the first seed's run folders go (runs at posterior draws apart from the others)."""
        return self.folder / "runs" / ("posterior" if self.posterior is not None else "")

    def run_dir(self, job: Job, which: str) -> Path:
        """Run folder of the job's first seed, ``base`` or ``plan``."""
        from sim.app.replicate import BASE, first_run_dir

        label = job.plan.stem if which == "plan" and job.plan is not None else BASE
        return first_run_dir(self.runs_dir, label, job.seeds[0], job.days)

    def commands(self, job: Job) -> list[str]:
        """CLI commands that reproduce the job's numbers: every replication, and the comparison."""
        s, d, n, scen = job.seeds[0], job.days, len(job.seeds), self.scenario_label
        run = f"--replications {n} --seed {s} --days {d}"
        if self.posterior is not None:
            from sim.app.posterior import per_draw_replications

            k = self.posterior.draws
            r = per_draw_replications(n, k)
            overlay = f" --overlay-b {job.plan.name}" if job.plan is not None else ""
            return [
                f"townsim compare {scen} {scen}{overlay} --posterior {self.posterior.folder} --draws {k} "
                f"--replications {r} --seed {s} --days {d}"
            ]
        if job.plan is None:
            return [f"townsim run {scen} {run} --out runs/base"]
        return [
            f"townsim run {scen} {run} --out runs/base",
            f"townsim run {scen} --overlay {job.plan.name} {run} --out runs/plan",
            "townsim compare runs/base runs/plan",
        ]


def _servers(world: World) -> dict[str, int]:
    return dict(zip(world.fac_ids, world.fac_servers.tolist(), strict=True))


def create_app(state: AppState, guard: PageGuard) -> Flask:
    """The Flask application serving the page and its JSON API, behind ``guard``'s checks."""
    app = Flask(__name__, static_folder="static", static_url_path="/static")
    guard.install(app)

    @app.get("/")
    def index() -> Any:
        return send_file(Path(__file__).parent / "static" / "index.html")

    @app.get("/api/init")
    def init() -> Any:
        body = state.init_json
        state.warm_up()  # after the page's data: the first paint does not wait for it
        return Response(body, mimetype="application/json")

    @app.post("/api/run")
    def run() -> Any:
        try:
            body = parse_run_request(request.get_data(cache=False))
        except RequestError as exc:
            return exc.response()
        seed = state.loaded.scenario.simulation.seed if body.seed is None else body.seed
        try:
            plan = state.plan_file(body.edits.as_dict())
        except SimError as exc:
            return jsonify({"error": f"townsim: error: {exc}"}), 400
        job = state.start(plan, replications=body.replications, days=body.days, seed=seed)
        return jsonify({"job": job.id, "plan": job.plan.stem if job.plan else None})

    @app.get("/api/job/<job_id>")
    def job_status(job_id: str) -> Any:
        job = state.jobs.get(job_id) or abort(404)
        return jsonify(
            {
                "state": job.state,
                "done": job.done,
                "total": job.total,
                "wall_s": job.wall_s,
                "error": job.error,
                "replications": len(job.seeds),
                "days": job.days,
                "plan": job.plan.stem if job.plan else None,
                "commands": state.commands(job),
                "results": job.results,
            }
        )

    @app.post("/api/job/<job_id>/cancel")
    def job_cancel(job_id: str) -> Any:
        job = state.jobs.get(job_id) or abort(404)
        job.cancel.set()
        return jsonify({"ok": True})

    @app.get("/download/overlay/<plan_id>.yaml")
    def download_overlay(plan_id: str) -> Any:
        return send_file(state.overlay_path(plan_id), mimetype="text/yaml", as_attachment=True)

    @app.get("/download/report/<job_id>.html")
    def download_report(job_id: str) -> Any:
        from sim.figures.fonts import choose_language
        from sim.figures.report import write_report

        job = state.jobs.get(job_id) or abort(404)
        if job.state != "done":
            abort(409)
        lang = "zh" if request.args.get("lang") == "zh" else "en"
        plan_dir, base_dir = state.run_dir(job, "plan"), state.run_dir(job, "base")
        out = state.folder / "reports" / f"{plan_dir.name}_vs_base_{lang}.html"
        if not out.is_file():
            try:
                write_report(plan_dir, out, language=choose_language(lang), vs=base_dir)
            except SimError as exc:
                return jsonify({"error": f"townsim: error: {exc}"}), 400
        return send_file(out, mimetype="text/html", as_attachment=True)

    return app
