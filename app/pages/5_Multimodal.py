"Multimodal: a patient's cells and genomic profile; image-only vs genomics-only vs fused."
import pandas as pd
import streamlit as st
from common import header, fusion_predictor
from aml_nb.dashboard import (shown, runs_dir, best_fused, fusion_example, fused_models, fusion_patients,
                              analyse_cells, session_memo, image_key, run_verdict,
                              load_run_of_fusion, kept_cells, profile_fields)
from aml_nb.mil import patient_call
from aml_nb.report import display_copy, patient_report_html, is_synthetic
from aml_nb.charts import fusion_rows, fig_fusion, fig_sources, readable, FUSION_CHART_LEVELS
from aml_nb.image_files import load_rgb, read_upload, check_uploads, UPLOAD_TYPES
from aml_nb.fusion import find_fusions
from aml_nb.store import read_json

header('Multimodal')
fusions = find_fusions(runs_dir())
if not fusions:
    st.info(f"No fusion results in `{runs_dir()}`. Create them with `make demo`, or "
            "`aml-nb fuse RUN --genomics patients.csv`, then reload this page.")
    st.stop()
root = runs_dir().resolve()
fdir = st.selectbox('image run fused with genomics', fusions, key='fusion',
                    format_func=lambda p: str(p.resolve().parent.relative_to(root)) if p.resolve().is_relative_to(root) else str(p))
meta = read_json(fdir/'fusion.json'); rows = fusion_rows(fdir)
run = load_run_of_fusion(fdir)   # None when its run is gone: the fusion still answers, without the patient report
if run and is_synthetic(run): st.info("This fusion's image model was trained on the built-in **synthetic cohort**: drawings of cells, not patients.")
st.caption(f"Genomics: {meta['genomics']}; {meta['match']['with_genomics']} of {meta['match']['patients']} patients have a profile.")
level = st.radio('level', FUSION_CHART_LEVELS, horizontal=True, key='level')
st.plotly_chart(fig_fusion(rows, level), key='fusion_chart')
st.dataframe(readable(rows), hide_index=True, key='fusion_table')

st.subheader('one patient')
fused = fused_models(fdir)
best = best_fused(rows[rows.model.isin(fused)])
model = st.selectbox('fused model (default: the best on the validation patients)', fused, index=fused.index(best), key='model')
fp = fusion_predictor(str(fdir), model)
source = st.radio('input', ['example test patient', 'upload cells and enter a profile'], horizontal=True, key='source')
images, profile, truth = [], {}, None
if source == 'example test patient':
    ex = fusion_example(fdir, st.selectbox('patient', fusion_patients(fdir), key='patient'))
    images, profile, truth = [load_rgb(p, decode_size=fp.predictor.img_size) for p in ex['paths']], ex['profile'], ex['label']
    st.image([display_copy(im, 80) for im in images[:12]], width=80)
    st.dataframe(pd.DataFrame([profile]) if profile else pd.DataFrame(), hide_index=True, key='profile_table')
else:
    files = st.file_uploader('cell images of one patient', type=UPLOAD_TYPES, accept_multiple_files=True, key='upload') or []
    n, why = check_uploads([(f.name, f.size) for f in files])
    if why: st.warning(shown(why))
    for f in files[:n]:
        try: images.append(read_upload(f.name, f.getvalue(), img_size=fp.predictor.img_size))
        except ValueError as e: st.error(shown(e))
    st.markdown('genomic profile (leave unknown what was not measured)')
    cols = st.columns(4)
    for i, f in enumerate(profile_fields(fp.encoder.schema)):
        box, c = cols[i % 4], f['column']
        if f['choices']:
            v = box.selectbox(c, f['choices'], key=f'g_{c}', help=f['doc'])
            profile[c] = '' if v == f['choices'][0] else v
        else: profile[c] = box.text_input(c, key=f'g_{c}', placeholder='unknown', help=f['doc'])
cells_of = lambda ims: session_memo(st.session_state, ('mm_cells', str(fdir), image_key(ims)), lambda: analyse_cells(fp.predictor, ims))
if images and fp.predictor.gate is not None and (n_flagged := int(cells_of(images)['flagged'].sum())):
    st.warning(f"{n_flagged} of {len(images)} cell(s) are flagged: **unlike the cells the image model was trained on**; they are left out "
               "of the image and fused answers unless you include them.")
    images = kept_cells(images, cells_of(images), st.checkbox('include them', value=False, key='include'))
if images or any(str(v).strip() for v in profile.values()):
    try: r = fp.predict(images, profile)
    except ValueError as e: st.error(shown(e)); st.stop()
    top = r['classes'][int(r['fused'].argmax())]
    c1, c2, c3 = st.columns(3)
    c1.metric(f"fused prediction ({r['fused'].max():.0%})", top)
    c2.metric('modalities used', r['modalities'])
    if r['weights']: c3.metric('weight on genomics', f"{r['weights']['genomics']:.2f}")
    if truth: st.caption(f"true subtype of this test patient: {shown(truth)}")
    st.plotly_chart(fig_sources(r), key='sources')
    if images and run is not None:
        res = cells_of(images)
        label = st.text_input('label for the report (optional; nothing else identifies the patient in it)', key='report_label')
        st.download_button('download the patient report of the cells (HTML)', lambda: patient_report_html(run, images, res, patient_call(res, images), label, run_verdict(run)[1]),
                           file_name='aml_nb_patient_report.html', mime='text/html', key='report')
else: st.info('Upload cells or enter at least one genomic value.')
