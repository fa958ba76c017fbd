"aml_nb dashboard: home page."
import streamlit as st
from common import header, store
from aml_nb.dashboard import device_name, runs_dir, runs_table

header('aml_nb: AML subtypes from blood-smear cells')
st.markdown("""
aml_nb classifies single white-cell images from peripheral-blood smears into acute myeloid leukaemia subtypes with
ConvNeXt, ResNet and Vision Transformer models trained with Mixup, SWA and bias mitigation; it explains them with
Grad-CAM, reports their performance per subtype and per patient group, and fuses them with genomic and molecular data.

**What it is not:** a diagnostic device. The built-in demo data are *synthetic drawings*, not patients.

Pages: **Predict** (upload cells), **Compare** (models and ablations), **Grad-CAM** (explore explanations),
**Fairness** (per-subtype and per-group reports), **Multimodal** (cells + genomic profile: image-only vs
genomics-only vs fused).
""")
st.metric('compute', device_name())
runs, problems = store()
st.subheader(f'runs in `{runs_dir()}`')
if runs: st.dataframe(runs_table(runs), hide_index=True, key='runs_table')
else: st.info("No finished runs yet. Next step: `make demo` (synthetic cohort, quick comparison, ablation) or "
              "`aml-nb compare --data YOUR_DATA --out runs`.")
if problems:
    st.warning(f"{len(problems)} run(s) could not be used:")
    st.dataframe(problems, hide_index=True)
