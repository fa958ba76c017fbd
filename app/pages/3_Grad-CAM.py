"Grad-CAM explorer: browse test cells, compare models and methods, localisation scores."
from pathlib import Path
import streamlit as st
from common import header, store, no_runs, predictor, synthetic_note
from aml_nb.dashboard import (shown, predict_and_explain, session_memo, image_key, cell_names, held_out_predictions, cam_methods, cam_caption,
                              localisation_table, same_data, data_sets, data_set_name, select_cells, run_verdict, run_label, cell_view, is_known)
from aml_nb.explain import overlay, localisation_score
from aml_nb.charts import readable

header('Grad-CAM explorer')
runs, _ = store()
if not runs: no_runs()
sets = {r['path']: r for r in data_sets(runs)}
base = sets[st.selectbox('test cells of', list(sets), format_func=lambda p: data_set_name(sets[p]), key='data')] if len(sets) > 1 else next(iter(sets.values()))
alike = same_data(runs, base)
synthetic_note([base])
cells = held_out_predictions(base)
c1, c2, c3, c4 = st.columns(4)
true = c1.selectbox('true class', ['all'] + sorted(cells.label.unique()), key='true')
predicted = c2.selectbox('predicted class', ['all'] + sorted(cells.predicted.unique()), key='pred')
wrong = c3.checkbox('misclassified only', key='wrong')
patients = sorted(cells.patient_id.dropna().astype(str).unique())
patient = c4.selectbox('patient', ['all'] + patients, key='patient')
sel = select_cells(cells, true, predicted, wrong, patient)
st.caption(f"{len(sel)} test cells of run {base['id']} match")
if sel.empty: st.stop()
short = cell_names(cells.path.tolist())
path = st.selectbox('cell', sel.path.tolist(), format_func=lambda p: short[p], key='cell')
m1, m2 = st.columns(2)
method = m1.selectbox('method', cam_methods(), key='method')
target = m2.selectbox('explain class', ['predicted'] + base['config']['classes'], key='target')
if st.session_state.get('models_of') != base['path']:   # another data set: its own models, not the last set's
    st.session_state['models'], st.session_state['models_of'] = [r['path'] for r in alike[:3]], base['path']
chosen = st.multiselect('models', [r['path'] for r in runs],
                        format_func=lambda p: run_label(next(r for r in runs if r['path'] == p)), key='models')
row = cells.set_index('path').loc[path]
px = row.pixel_um if 'pixel_um_assumed' in row and row.pixel_um_assumed == 0 else None   # the cell's own pixel size, when known
cols = st.columns(max(1, len(chosen)))
for col, rp in zip(cols, chosen):
    pred = predictor(rp); run = next(r for r in runs if r['path'] == rp)
    if target != 'predicted' and target not in pred.classes:
        col.warning(f"{shown(Path(rp).name)} has no class {shown(repr(target))}"); continue
    cell, mask = cell_view(pred, path, px)   # as this model sees it (at its resolution), and the mask its heatmap is scored on
    tgt = None if target == 'predicted' else target
    probs, cams = session_memo(st.session_state, ('gradcam', rp, method, tgt, image_key([cell])),
                               lambda: predict_and_explain(pred, [cell], method, tgt))
    said = pred.classes[probs[0].argmax()]
    score = localisation_score(cams[0], mask)
    col.image(overlay(cell, cams[0]), caption=f"{shown(Path(rp).name)}: predicted {shown(said)} ({probs[0].max():.0%}); true {shown(row.label)}")
    col.caption(cam_caption(method, tgt or said, cams[0]))
    if is_known(score['energy_cell']):
        col.caption(f"share of the heatmap on the cell {score['energy_cell']:.0%}, on the nucleus {score['energy_nucleus']:.0%}; peak on the cell: "
                    f"{'yes' if score['pointing_game'] else 'no'}")
    col.caption(run_verdict(run)[1])
loc = localisation_table([r for r in runs if r['path'] in chosen] or alike)
if len(loc):
    st.subheader('localisation on the test split: trained vs randomised weights')
    st.caption("If a model's heatmaps put no more weight on the cell than those of the same network with random weights, they show the "
               "network's structure rather than what it learnt (Adebayo et al., 2018).")
    st.dataframe(readable(loc), hide_index=True)
