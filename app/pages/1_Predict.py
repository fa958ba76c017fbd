"Predict: upload cells; their classes, heatmaps and flags; a differential with a review queue (cell types) or the patient-level call (subtypes); reports."
import streamlit as st
from common import header, store, pick_run, no_runs, predictor, mil_predictor, synthetic_note
from aml_nb.dashboard import (draw_heatmaps, cell_sets, CELLS_PER_PAGE, top_k, analyse_cells, gate_note, robustness_note, suggest_run, session_memo, image_key,
                              cell_names, held_out_predictions, cam_methods, cam_caption, run_verdict, suggestion,
                              is_cell_type_model, cell_order, page_count, page_cells, reviewed_predictions, save_reviews, runs_dir,
                              pixel_choices, with_pixel_um, pixel_note, OTHER_PIXEL_SIZE, shown, reviewed, review_choices)
from aml_nb.infer import precision_words
from aml_nb.differential import differential, blast_words, count_words, run_confusion, differential_rows, differential_html
from aml_nb.report import display_copy, near_chance, patient_report_html
from aml_nb.charts import readable
from aml_nb.data import csv_text
from aml_nb.explain import overlay
from aml_nb.image_files import load_rgb, read_upload, expand_uploads, UPLOAD_TYPES
from aml_nb.mil import mil_of, patient_call

header('Predict')
runs, _ = store()
if not runs: no_runs()
run = pick_run(runs, 'model')
synthetic_note([run])
pred = predictor(run['path'])
c = run['metrics']['cell']
st.caption(f"Test balanced accuracy {c['balanced_accuracy']:.3f} (95% interval {c['balanced_accuracy_lo']:.3f} to {c['balanced_accuracy_hi']:.3f}); "
           f"calibration error {c['ece']:.3f}: a probability is the model's confidence, which can be off by about that much.")
if near_chance(run): st.error("This model is near chance on its test cells: its answers mean little. Choose another run above.")
source = st.radio('cells', ['upload', 'examples from the test split', "a patient's test cells, or a draw"], horizontal=True, key='source')
images, names, truth, originals = [], [], {}, []   # originals: each cell's own file (bytes or path), saved as given when reviewed
if source == 'upload':
    files = st.file_uploader('single-cell images, or a zip of a folder of them (several = one patient)', type=UPLOAD_TYPES,
                             accept_multiple_files=True, key='upload') or []
    px = None
    if choices := pixel_choices(run):   # a run at a physical resolution: the cells' pixel size, asked once and kept for the session
        labels = list(choices); kept = st.session_state.get('pixel_size_kept', labels[0])
        pick = st.selectbox('pixel size of the uploaded files (micrometres per pixel, as the scanner records it)', labels,
                            index=labels.index(kept) if kept in labels else 0, key='pixel_size_pick')
        st.session_state['pixel_size_kept'] = pick; px = choices[pick]
        if px == OTHER_PIXEL_SIZE:
            px = st.number_input('micrometres per pixel', min_value=.01, max_value=10., value=st.session_state.get('pixel_um_kept', .25),
                                 step=.001, format='%.4f', key='pixel_um_input')
            st.session_state['pixel_um_kept'] = px
    cells, problems = session_memo(st.session_state, ('uploads', tuple((getattr(f, 'file_id', f.name), f.size) for f in files)),   # once per upload, not per rerun
                                   lambda: expand_uploads([(f.name, f.getvalue()) for f in files]))
    for why in problems: st.warning(shown(why))
    for name, data in cells:
        try: images.append(with_pixel_um(read_upload(name, data, img_size=pred.decode_side(px)), px)); names.append(name); originals.append(data)
        except ValueError as e: st.error(shown(e))
else:
    test = held_out_predictions(run); short = cell_names(test.path.tolist())
    label = dict(zip(test.path, test.label)); said = dict(zip(test.path, test.predicted))
    size = dict(zip(test.path, test.pixel_um.where(test.pixel_um_assumed == 0))) if 'pixel_um_assumed' in test else {}   # each test cell's own pixel size
    if source == 'examples from the test split':
        picks = st.multiselect('test cells (several: a differential for a cell-type model, a patient-level call for a subtype model)',
                               test.path.tolist(), max_selections=200,
                               format_func=lambda p: f"{short[p]} (true {label[p]}, predicted {said[p]})", key='examples')
    else:
        sets = cell_sets(test, seed=st.session_state.get('draw_seed', 0))
        picks = sets[st.selectbox('cells', list(sets), key='test_set')]
        st.number_input('seed of the draw', 0, 10_000, 0, key='draw_seed')
    for p in picks:
        try: images.append(with_pixel_um(load_rgb(p, decode_size=pred.decode_side(size.get(p))), size.get(p))); names.append(short[p]); truth[short[p]] = label[p]; originals.append(p)
        except ValueError as e: st.error(shown(e))
method = st.selectbox('heatmap method', cam_methods(), key='method')
if images:
    bar = st.empty()   # scores first (a progress bar over the cells); heatmaps only of the cells on screen, below
    r = session_memo(st.session_state, ('predict', run['path'], image_key(images)),
                     lambda: analyse_cells(pred, images, cams=False, progress=lambda d, n: bar.progress(d / n, f"scored {d} of {n} cells")))
    bar.empty()
    found = lambda: session_memo(st.session_state, ('suggest', image_key(images)), lambda: suggest_run(images, runs, predictor))   # scored once per set of cells
    if words := suggestion(run, runs, r, found): st.info(words)
    ok, verdict = run_verdict(run)
    n_flagged = int(r['flagged'].sum())
    if note := pixel_note(pred, images): (st.warning if '**' in note else st.caption)(note)
    if note := gate_note(pred): (st.warning if note.startswith("WEAK") else st.caption)(note)
    st.caption(f"Scored {precision_words(pred)}.")
    if note := robustness_note(run): st.warning(note)
    cell_types = is_cell_type_model(pred.classes)
    if n_flagged: st.warning(f"{n_flagged} of {len(images)} cell(s) are **unlike the cells this model was trained on**: their answers are "
                              "not to be trusted, and they are " + ("counted apart in the differential unless you review them." if cell_types
                                                                    else "left out of the patient-level call unless you include them."))
    call = None
    ik = image_key(images)
    reviews = {i: st.session_state.get(f'review_{ik}_{i}') for i in range(len(images))}
    reviews = reviewed(reviews)
    if cell_types:   # a differential, never a diagnosis from a cell type
        conf = session_memo(st.session_state, ('confusion', run['path']), lambda: run_confusion(run['path'], pred.classes))
        d = differential(reviewed_predictions(r, names, reviews, originals), pred.classes, conf)
        st.subheader(f"differential of {d['counted']} cell(s)" + (f", {len(reviews)} reviewed" if reviews else ''))
        st.caption(count_words(d))   # what was counted: identical copies once, the gate's flags or that no gate ran
        if d.get('blast'): st.markdown(blast_words(d['blast']))
        if d['flagged']: st.warning(f"{d['flagged']} cell(s) flagged by the gate are counted apart (first in the review queue below): "
                                    + ', '.join(map(shown, d['flagged_paths'])))
        cols = ['cell_type', 'count', 'share', 'share_lo', 'share_hi'] + (['corrected', 'corrected_lo', 'corrected_hi'] if 'corrected' in d['table'] else [])
        if d['counted']: st.dataframe(readable(d['table'][cols]), hide_index=True)
        else: st.info("No cell is counted yet: every cell was flagged. Review them below; a reviewed cell is counted with its label.")
        st.caption("Shares with 95% intervals (the wider of Wilson's and the exact one); corrected, never narrower: for this model's own confusions on its test cells (adjusted "
                   "classify-and-count). Platelets and erythroblasts are counted apart from the white cells. Review the cells below "
                   "(flagged first, then the least certain): confirm or re-label each, and the differential updates at once.")
        c1, c2, c3 = st.columns(3)
        label_d = c1.text_input('label for the differential (optional)', key='diff_label')
        c2.download_button('differential (CSV)', csv_text(differential_rows(d, label_d or 'cells')), file_name='aml_nb_differential.csv', key='diff_csv')
        c3.download_button('differential (HTML)', differential_html(d, label_d), file_name='aml_nb_differential.html', mime='text/html', key='diff_html')
        if reviews and st.button('save the reviewed cells as training data', key='save_reviews'):
            f = save_reviews(images, names, reviews, runs_dir()/'reviews', originals)
            st.success(f"Saved {len(reviews)} reviewed cell(s) to {f} (class folders): `aml-nb train --data {f}` trains on them.")
    elif len(images) > 1:
        include = st.checkbox('include cells unlike the training cells in the patient-level call', value=False, key='include') if n_flagged else False
        mil = mil_predictor(run['path']) if mil_of(run['path']) else None
        call = session_memo(st.session_state, ('call', run['path'], image_key(images), include),
                            lambda: patient_call(r, images, mil, include))
        if call['predicted'] is None: st.subheader("patient-level: no call (every cell is unlike the training cells)")
        else:
            lo, hi = call['interval']
            st.subheader(f"patient-level: {shown(call['predicted'])} ({call['probability']:.0%}; 95% interval over the cells {lo:.0%} to {hi:.0%})")
            how = ('Attention MIL weighs each cell by how much it carries the diagnosis; cells below are ordered by that weight.' if mil else
                   'The mean of the cells\' probabilities (this run has no MIL model); cells below are ordered by their probability of the call.')
            differs = (f" The plain mean of the cells would say **{shown(call['average_predicted'])}** ({call['average_probability']:.0%})."
                       if call['average_predicted'] != call['predicted'] else f" The plain mean of the cells agrees ({call['average_probability']:.0%}).")
            st.markdown(f"Made by {call['method']} over {len(call['used'])} cell(s). {how}{differs}")
    st.caption(f"Heatmaps: {verdict}")
    weights = dict(zip(call['order'], call['weights'])) if call and call.get('weights') is not None else {}
    order = cell_order(r, call, cell_types)
    pages = page_count(len(order))
    page = st.number_input(f"page of cells ({CELLS_PER_PAGE} a page, {pages} pages, in review order)", 1, pages, 1, key=f'page_{ik}') if pages > 1 else 1
    order = page_cells(order, page)
    cams = dict(zip(order, session_memo(st.session_state, ('cams', run['path'], method, ik, tuple(order)),
                                        lambda: draw_heatmaps(pred, images, r, order, method))))
    for i in order:
        p = top_k(r['probs'][i:i + 1], pred.classes)[0]
        c1, c2, c3 = st.columns([1, 1, 2])
        seen = display_copy(pred.view(images[i]))   # as the model sees it (at its resolution), and its heatmap over it
        c1.image(seen, caption=shown(names[i]) + (f" (true {shown(truth[names[i]])})" if names[i] in truth else ''), width=200)
        c2.image(overlay(seen, cams[i]), caption=cam_caption(method, p[0][0], cams[i]), width=240)
        lines = [f"- **{shown(k)}**: {v:.1%}" for k, v in p]
        if r['flagged'][i]: lines.insert(0, '**unlike the cells this model was trained on**')
        if i in weights: lines.append(f"attention weight in the patient-level call: {weights[i]:.2f}")
        c3.markdown('\n'.join(lines))
        if cell_types: c3.selectbox('review: confirm or re-label', review_choices(pred.classes), key=f'review_{ik}_{i}')
    if not cell_types:   # a cell-type model's report is its differential (above)
        st.divider()
        label = st.text_input('label for the report (optional; nothing else identifies the patient in it)', key='report_label')
        st.download_button('download the patient report (HTML)', lambda: patient_report_html(run, [pred.view(im) for im in images], r | dict(cams=draw_heatmaps(pred, images, r, range(len(images)), method)),
                                                                                        call or patient_call(r, images), label, verdict),
                           file_name='aml_nb_patient_report.html', mime='text/html', key='report')
