"Compare: models and ablations as charts with intervals."
import json
from pathlib import Path
import pandas as pd
import streamlit as st
from common import header, store, pick_run, no_runs
from aml_nb.dashboard import runs_dir, fig_metrics, fig_per_class_recall, fig_confusion, fig_roc, fig_speed, fig_ablation
from aml_nb.experiments import run_row

header('Compare')
runs, _ = store()
if not runs: no_runs()
rows = pd.DataFrame([run_row(r) for r in runs])
tables = sorted(Path(runs_dir()).rglob('comparison.json')) + sorted(Path(runs_dir()).rglob('ablation.json'))
st.subheader('all runs')
st.plotly_chart(fig_metrics(rows, by='run'), key='metrics_all')
st.plotly_chart(fig_speed(rows), key='speed')
for t in tables:
    d = json.loads(t.read_text())
    st.subheader(f"{d['kind']}: {t.parent.name}")
    if d['kind'] == 'ablation':
        tab = pd.DataFrame(d['table'])
        st.plotly_chart(fig_ablation(tab), key=f'abl_{t}')
        st.dataframe(tab[['variant', 'balanced_accuracy', 'delta', 'delta_lo', 'delta_hi', 'min_recall']].round(3), hide_index=True)
        st.markdown('**bias mitigation, before and after**')
        st.dataframe(pd.DataFrame(d['mitigation']).round(3), hide_index=True)
    else:
        st.dataframe(pd.DataFrame(d['table']).round(3), hide_index=True)
st.subheader('one model in detail')
run = pick_run(runs, 'model')
level = st.radio('level', [k for k in ('cell', 'patient_mean', 'patient_vote') if k in run['metrics']], horizontal=True, key='level')
c1, c2 = st.columns(2)
c1.plotly_chart(fig_confusion(run, level), key='confusion')
c2.plotly_chart(fig_roc(run), key='roc')
st.plotly_chart(fig_per_class_recall([run]), key='recall')
