"Compare: models and ablations as charts with intervals."
import pandas as pd
import streamlit as st
from common import header, store, pick_run, no_runs
from aml_nb.dashboard import runs_dir
from aml_nb.experiments import run_row
from aml_nb.report import (fig_metrics, fig_per_class_recall, fig_confusion, fig_roc, fig_training_time, fig_inference_speed,
                           fig_ablation, readable)
from aml_nb.store import find_artefacts, read_json

header('Compare')
runs, _ = store()
if not runs: no_runs()
rows = pd.DataFrame([run_row(r) for r in runs])
st.subheader('all runs')
st.plotly_chart(fig_metrics(rows, by='run'), key='metrics_all')
c1, c2 = st.columns(2)
c1.plotly_chart(fig_training_time(rows), key='train_time')
c2.plotly_chart(fig_inference_speed(rows), key='speed')
for kind in ('comparison', 'ablation'):
    for folder in find_artefacts(runs_dir(), kind):
        d = read_json(folder/f'{kind}.json')
        st.subheader(f"{kind}: {folder.name}")
        tab = pd.DataFrame(d['table'])
        if kind == 'ablation':
            st.plotly_chart(fig_ablation(tab), key=f'abl_{folder}')
            st.dataframe(readable(tab[['variant', 'balanced_accuracy', 'delta', 'delta_lo', 'delta_hi', 'min_recall']]), hide_index=True)
            st.markdown('**bias mitigation, before and after**')
            st.dataframe(readable(pd.DataFrame(d['mitigation'])), hide_index=True)
        else:
            st.dataframe(readable(tab), hide_index=True)
st.subheader('one model in detail')
run = pick_run(runs, 'model')
level = st.radio('level', [k for k in ('cell', 'patient_mean', 'patient_vote') if k in run['metrics']], horizontal=True, key='level')
c1, c2 = st.columns(2)
c1.plotly_chart(fig_confusion(run, level), key='confusion')
c2.plotly_chart(fig_roc(run), key='roc')
st.plotly_chart(fig_per_class_recall([run]), key='recall')
