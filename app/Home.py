"aml_nb dashboard: home page."
import streamlit as st
from common import header, store
from aml_nb.dashboard import device_name, runs_dir, runs_table, demo_progress

header('aml_nb: AML subtypes from blood-smear cells', progress=False)
st.markdown("""
aml_nb classifies single white-cell images from peripheral-blood smears: into acute myeloid leukaemia subtypes
(models trained on the built-in synthetic cohort or on your patients' cells) and into cell types, the AML blast among
them (models trained on the built-in real cells). It compares ConvNeXt, ResNet and Vision Transformer models trained
with Mixup, SWA and bias mitigation; explains them with Grad-CAM; reports their performance per class and per patient
group; makes patient-level calls from the cells that carry the evidence (attention MIL); fuses them with genomic and
molecular data; and flags cells unlike those a model was trained on.

**What it is not:** a diagnostic device. The synthetic cohort is *drawings*, not patients.

Pages: **Predict** (upload cells), **Compare** (models, ablations, patient-level MIL, tuning studies), **Grad-CAM**
(explore explanations), **Fairness** (per class and per patient group), **Multimodal** (cells + genomic profile:
image-only vs genomics-only vs fused).
""")
st.metric('compute', device_name())


@st.fragment(run_every=5)
def live():
    "What the demo is computing, and the runs that are ready: redrawn every 5 s while the page is open."
    p = demo_progress(runs_dir())
    if p and p['words']:
        (st.info if p['running'] else st.warning)(p['words'])
        if p['running']: st.progress(p['fraction'])
    runs, problems = store()
    st.subheader(f'runs in `{runs_dir()}`')
    if runs:
        st.caption("Best first. A run near chance (its interval reaches the chance level) is marked, and no page opens on it.")
        st.dataframe(runs_table(runs), hide_index=True)
    else: st.info("No finished runs yet. Next step: `make demo` (synthetic cohort and real cells, comparisons, ablation) or "
                  "`aml-nb compare --data YOUR_DATA --out runs/comparison`.")
    if problems:
        st.warning(f"{len(problems)} run(s) could not be used:")
        st.dataframe(problems, hide_index=True)


live()
