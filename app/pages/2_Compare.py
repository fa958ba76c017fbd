"Compare: models, ablations, robustness to another lab, patient-level MIL and tuning studies, as charts with intervals."
import pandas as pd
import streamlit as st
from common import header, store, pick_run, no_runs, synthetic_note
from aml_nb.dashboard import runs_dir, mil_table, run_label, store_tables, shown
from aml_nb.experiments import run_row
from aml_nb.evaluate import METRIC_LEVELS
from aml_nb.charts import (fig_metrics, fig_per_class_recall, fig_confusion, fig_roc, fig_training_time, fig_inference_speed, fig_ablation, readable,
                           robustness_tables, robustness_single_site, fig_robustness, METRICS, ROBUSTNESS_METRICS, ABLATION_COLUMNS)
from aml_nb.fairness import single_site_words
from aml_nb.store import find_artefacts, read_json

header('Compare')
runs, _ = store()
if not runs: no_runs()
synthetic_note(runs)
rows = pd.DataFrame([run_row(r) for r in runs]).assign(run=[run_label(r) for r in runs])
studies = find_artefacts(runs_dir(), 'study')
views = ['models', 'ablation and bias mitigation', 'robustness', 'patient level'] + (['tuning studies'] if studies else []) + ['one model in detail']
tabs = dict(zip(views, st.tabs(views, key='view', on_change='rerun')))   # only the open tab is computed and drawn


if tabs['models'].open:
    with tabs['models']:
        metric = st.selectbox('metric', METRICS, format_func=lambda m: m.replace('_', ' '), key='metric')
        st.subheader('all runs, best first')
        st.plotly_chart(fig_metrics(rows, by='run', metric=metric), key='metrics_all')
        c1, c2 = st.columns(2)
        c1.plotly_chart(fig_training_time(rows), key='train_time')
        c2.plotly_chart(fig_inference_speed(rows), key='speed')
        for folder, d, name, stale in store_tables('comparison'):
            st.subheader(f"model comparison: {shown(name)}")
            if stale: st.warning(f"Not shown: {shown(stale)}. Run the comparison again to update it."); continue
            tab = pd.DataFrame(d['table'])
            st.dataframe(readable(tab.drop(columns=[c for c in tab if c.endswith('_sd') and not c.startswith('balanced')])), hide_index=True)
if tabs['ablation and bias mitigation'].open:
    with tabs['ablation and bias mitigation']:
        found = False
        for folder, d, name, stale in store_tables('ablation'):
            found = True
            st.subheader(f"ablation: {shown(name)}")
            if stale: st.warning(f"Not shown: {shown(stale)}. Run the ablation again to update it."); continue
            tab = pd.DataFrame(d['table'])
            st.plotly_chart(fig_ablation(tab), key=f'abl_{folder}')
            st.dataframe(readable(tab[ABLATION_COLUMNS]), hide_index=True)
            st.markdown('**bias mitigation, before and after**')
            st.dataframe(readable(pd.DataFrame(d['mitigation'])), hide_index=True)
        if not found: st.info("No ablation in this store. Run one with `aml-nb ablate --data DATA --out runs/ablation`.")
if tabs['robustness'].open:
    with tabs['robustness']:
        st.caption("Each run's test cells again, under another lab's colours and imaging scale (its pixel size given, or withheld), stain "
                   "amounts and optics (`aml-nb robustness RUN` adds this to a run made before it). A silent miss is a blast neither called a "
                   "blast nor flagged.")
        rob = robustness_tables(runs, run_label)
        if words := single_site_words(robustness_single_site(runs)): st.warning(shown(words))
        if rob.empty: st.info('No run of this store has a robustness.json yet: `aml-nb robustness RUN...`')
        else:
            metric = st.selectbox('figure', [c for c in ROBUSTNESS_METRICS if c in rob],
                                  format_func=lambda m: m.replace('_', ' '), key='rob_metric')
            st.plotly_chart(fig_robustness(rob, metric), key='rob_fig')
            st.dataframe(readable(rob.set_index(['run', 'shift']).reset_index()), hide_index=True, key='rob_table')
if tabs['patient level'].open:
    with tabs['patient level']:
        mil = mil_table(runs)
        if len(mil):
            st.subheader('attention MIL against the mean and the vote of the cells (same test patients)')
            st.dataframe(readable(mil), hide_index=True, key='mil_table')
        else: st.info("No patient-level (MIL) models in this store. Fit one with `aml-nb mil RUN`.")
if studies and tabs['tuning studies'].open:
    with tabs['tuning studies']:
        from aml_nb.tune import load_study, study_figures, study_vs_preset
        folder = st.selectbox('study', studies, format_func=lambda f: f.name, key='study')
        info = read_json(folder/'study.json')
        st.caption(f"{info['trials']} trials ({info['complete']} finished, {info['pruned']} stopped early); objective: validation balanced accuracy"
                   + (f"; best {info['best']['value']:.3f} (trial {info['best']['trial']})" if info['best'] else ''))
        study = load_study(folder)
        for i, fig in enumerate(study_figures(study)): st.plotly_chart(fig, key=f'study_{i}')
        if info['best']: st.dataframe(study_vs_preset(study, info['preset']).astype(str), hide_index=True, key='study_vs_preset')
if tabs['one model in detail'].open:
    with tabs['one model in detail']:
        run = pick_run(runs, 'model')
        level = st.radio('level', [k for k in METRIC_LEVELS if k in run['metrics']], horizontal=True, key='level',
                         format_func=lambda k: dict(cell='cells', patient_mean='patients (mean of cells)', patient_vote='patients (vote of cells)')[k])
        c1, c2 = st.columns(2)
        c1.plotly_chart(fig_confusion(run, level), key='confusion')
        c2.plotly_chart(fig_roc(run), key='roc')
        st.plotly_chart(fig_per_class_recall([run]), key='recall')
