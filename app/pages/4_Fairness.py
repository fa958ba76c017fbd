"Fairness: per-class and per-group reports, gaps, floor, before/after mitigation."
import pandas as pd
import streamlit as st
from common import header, store, pick_run, no_runs, synthetic_note
from aml_nb.report import fairness_markdown
from aml_nb.charts import fig_subtype_recall, fig_group, readable
from aml_nb.fairness import single_site_words
from aml_nb.dashboard import shown

header('Fairness')
runs, _ = store()
if not runs: no_runs()
run = pick_run(runs, 'model')
synthetic_note([run])
f = run['fairness']; s = f['subtype']
c1, c2, c3 = st.columns(3)
c1.metric('lowest sensitivity of any class', f"{s['min_recall']:.2f}", help=s['min_recall_subtype'])
c2.metric('sensitivity gap (max - min)', f"{s['recall_gap']:.2f}")
c3.metric(f"classes below the floor of {f['floor']}", len(s['below_floor']), help=', '.join(s['below_floor']) or 'none')
st.plotly_chart(fig_subtype_recall(f), key='subtype')
st.markdown('**mitigation, before and after** (retraining-based mitigation is compared on the Compare page, ablation)')
st.dataframe(readable(pd.DataFrame(f['mitigation'])), hide_index=True)
if words := single_site_words(f.get('single_site')): st.warning(shown(words))
if f.get('groups'):
    attrs = list(f['groups']['attributes'])
    a = st.selectbox('patient group', attrs, key='attribute')
    st.plotly_chart(fig_group(f, a), key='group')
    st.markdown('**largest gaps between groups** (read each with the number of cells behind it, in the chart above)')
    st.dataframe(readable(pd.DataFrame(f['groups']['largest_gaps'])), hide_index=True)
st.download_button('download the report (Markdown)', fairness_markdown(run), file_name=f"fairness_{run['id']}.md", key='download')
