"Predict: upload cells, get subtypes, Grad-CAM and a patient-level summary."
import streamlit as st
from common import header, store, pick_run, no_runs, predictor
from aml_nb.dashboard import (read_upload, check_uploads, display_copy, top_k, patient_summary, predict_and_explain, session_memo,
                              image_key, cell_names, test_predictions, cam_methods, UPLOAD_TYPES)
from aml_nb.explain import overlay
from aml_nb.data import load_rgb

header('Predict')
runs, _ = store()
if not runs: no_runs()
run = pick_run(runs, 'model')
pred = predictor(run['path'])
ece = run['metrics']['cell']['ece']
st.caption(f"Test balanced accuracy {run['metrics']['cell']['balanced_accuracy']:.3f}; expected calibration error {ece:.3f}: "
           "a probability is the model's confidence, which can be miscalibrated by about that much.")
source = st.radio('cells', ['upload', 'examples from the test split'], horizontal=True, key='source')
images, names = [], []
if source == 'upload':
    files = st.file_uploader('single-cell images (several = one patient)', type=UPLOAD_TYPES, accept_multiple_files=True, key='upload') or []
    n, why = check_uploads([(f.name, f.size) for f in files])
    if why: st.warning(why)
    for f in files[:n]:
        try: images.append(read_upload(f.name, f.getvalue(), img_size=pred.img_size)); names.append(f.name)
        except ValueError as e: st.error(str(e))
else:
    test = test_predictions(run); truth = dict(zip(test.path, test.label)); short = cell_names(test.path.tolist())
    picks = st.multiselect('test cells (several of one patient = a patient-level prediction)', test.path.tolist(), max_selections=16,
                           format_func=lambda p: f"{short[p]} (true {truth[p]})", key='examples')
    for p in picks:
        try: images.append(load_rgb(p, decode_size=pred.img_size)); names.append(short[p])
        except ValueError as e: st.error(str(e))
method = st.selectbox('Grad-CAM method', cam_methods(), key='method')
if images:
    probs, cams = session_memo(st.session_state, ('predict', run['path'], method, image_key(images)),
                               lambda: predict_and_explain(pred, images, method))
    for name, im, p, cam in zip(names, images, top_k(probs, pred.classes), cams):
        c1, c2, c3 = st.columns([1, 1, 2])
        shown = display_copy(im)
        c1.image(shown, caption=name, width=200)
        c2.image(overlay(shown, cam), caption=f'{method} for {p[0][0]}', width=240)
        c3.markdown('\n'.join(f"- **{c}**: {v:.1%}" for c, v in p))
    if len(images) > 1:
        s = patient_summary(probs, pred.classes, names)
        st.subheader(f"patient-level: {s['predicted']} ({s['probability']:.1%}, mean over {len(images)} cells)")
        st.dataframe(s['drivers'].head(5), hide_index=True)
