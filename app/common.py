"Shared, cached resources of the dashboard pages (layout helpers only; computation lives in aml_nb)."
import sys
from pathlib import Path
import streamlit as st
from aml_nb.images import set_threads
from aml_nb.dashboard import runs_dir, run_label, runs_in_order, demo_progress, dashboard_precision
from aml_nb.report import is_synthetic
from aml_nb.charts import DISCLAIMER
from aml_nb.store import load_runs
from aml_nb.infer import Predictor
from aml_nb.mil import MILPredictor
from aml_nb.fusion import FusionPredictor

set_threads()   # the CPUs this server may use, not the host's count


@st.cache_resource(show_spinner='loading model...')
def predictor(run_path: str) -> Predictor:
    "One Predictor per run, loaded once per server process."
    p, root = Path(run_path).resolve(), runs_dir().resolve()
    name = p.relative_to(root) if p.is_relative_to(root) else f"{p.parent.name}/{p.name}"   # run ids repeat across folders
    print(f"aml_nb: loaded model of run {name}", file=sys.stderr, flush=True)   # no patient data here
    return Predictor.from_run(run_path, workers=0, precision=dashboard_precision())   # `aml-nb app --precision`


@st.cache_resource(show_spinner='loading the patient-level (MIL) model...')
def mil_predictor(run_path: str) -> MILPredictor:
    "One MILPredictor per run (its MIL folder), loaded once per server process."
    return MILPredictor.from_run(run_path, precision=dashboard_precision())


@st.cache_resource(show_spinner='loading fusion model...')
def fusion_predictor(fusion_dir: str, model: str) -> FusionPredictor:
    "One FusionPredictor per fusion folder and model, loaded once per server process."
    return FusionPredictor(fusion_dir, model, precision=dashboard_precision())


@st.cache_data(ttl=10, show_spinner=False)
def store():
    "Usable runs and problems of the run store (re-read every 10 s: runs a background demo finishes appear on the next rerun)."
    return load_runs(runs_dir())


def header(title: str, progress: bool = True):
    "Page title, the research-use disclaimer and (`progress`) what a running demo is still computing."
    st.set_page_config(page_title=f"aml_nb: {title}", layout='wide')
    st.title(title)
    st.caption(DISCLAIMER)
    p = demo_progress(runs_dir()) if progress else None   # Home shows it live, with a progress bar
    if progress and p and p['words']: st.caption(p['words'])


def synthetic_note(runs):
    "Say, near the title, when the models shown were trained on the synthetic cohort."
    if runs and all(is_synthetic(r) for r in runs):
        st.info("The model(s) on this page were trained on the built-in **synthetic cohort**: drawings of cells, not patients.")


def pick_run(runs, key: str, label: str = 'model (run)'):
    "A selectbox of runs, best first, opening on the comparison's best model that is not near chance."
    chosen = st.selectbox(label, [r['path'] for r in runs_in_order(runs)], format_func=lambda p: run_label(next(r for r in runs if r['path'] == p)), key=key)
    return next(r for r in runs if r['path'] == chosen)


def no_runs():
    "What to show when the store is empty."
    st.info(f"No finished runs in `{runs_dir()}`. Create some with `make demo` or "
            "`aml-nb compare --data DATA --out runs/comparison`, then reload this page.")
    st.stop()
