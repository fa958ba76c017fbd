"""Property-based fault injection (hypothesis): random, truncated and corrupted images, odd modes and bit depths,
huge declared sizes, malformed genomic tables. Every case must end in a clear error naming the input, or a
reported skip; never a crash, a hang or a silently wrong value. The counts are recorded in bench/BENCHMARKS.md
(section "Reliability") from `python -m pytest tests/test_fuzz.py --hypothesis-show-statistics`.
"""
import io, math, re, struct, zlib
from pathlib import Path
import numpy as np, pandas as pd, pytest
from PIL import Image
from hypothesis import given, settings, strategies as st, HealthCheck

from aml_nb.data import read_class_folders
from aml_nb.image_files import load_rgb, MAX_ASPECT
from aml_nb.images import CellDataset, cell_transforms
from aml_nb.image_files import read_upload
from aml_nb.genomics import read_genomics, parse_value, GENOMIC_SCHEMA, MISSING

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _encode(im, fmt):
    b = io.BytesIO(); im.save(b, fmt); return b.getvalue()


def _ok_or_named(fn, name):
    "Call fn; it must return an 8-bit RGB image or raise a ValueError that starts with `name`."
    try: im = fn()
    except ValueError as e:
        assert str(e).startswith(f'{name}:'), str(e); return 'refused'
    assert im.mode == 'RGB' and im.width > 0 and im.height > 0
    return 'decoded'


@FAST
@given(st.binary(max_size=4096))
def test_random_bytes_upload(data):
    _ok_or_named(lambda: read_upload('cell.png', data), 'cell.png')


CELL = np.random.default_rng(0).integers(0, 255, (40, 48, 3), np.uint8)


@FAST
@given(fmt=st.sampled_from(['PNG', 'JPEG', 'TIFF', 'BMP']), cut=st.floats(0, 1), flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=8))
def test_truncated_and_corrupted_images(fmt, cut, flips):
    b = bytearray(_encode(Image.fromarray(CELL), fmt))
    for where, v in flips: b[int(where * (len(b) - 1))] = v
    b = bytes(b[:max(1, int(cut * len(b)))]) if cut < 1 else bytes(b)
    _ok_or_named(lambda: load_rgb(b, name='x.' + fmt.lower()), 'x.' + fmt.lower())


MODES = {'1': (np.bool_, None), 'L': (np.uint8, None), 'P': (np.uint8, None), 'RGB': (np.uint8, 3), 'RGBA': (np.uint8, 4),
         'LA': (np.uint8, 2), 'I;16': (np.uint16, None), 'I': (np.int32, None), 'F': (np.float32, None), 'CMYK': (np.uint8, 3)}


@FAST
@given(mode=st.sampled_from(list(MODES)), w=st.integers(1, 64), h=st.integers(1, 64), seed=st.integers(0, 2**16))
def test_every_mode_and_bit_depth_decodes_to_rgb(mode, w, h, seed):
    dt, ch = MODES[mode]
    a = np.random.default_rng(seed).integers(0, 2 if dt is np.bool_ else 255, (h, w) + ((ch,) if ch else ())).astype(dt)
    base = Image.fromarray(a)   # the mode follows the array's dtype and channels; P and CMYK by conversion
    im = base if base.mode == mode else base.convert(mode)
    assert im.mode == mode
    fmt = 'TIFF' if mode in ('I;16', 'I', 'F', 'CMYK') else 'PNG'
    if max(w, h) > MAX_ASPECT * min(w, h):   # a line of pixels is not a cell: refused in words, whatever its mode
        with pytest.raises(ValueError, match=r'm: not a cell image'): load_rgb(_encode(im, fmt), name='m')
        return
    out = load_rgb(_encode(im, fmt), name='m')
    assert out.mode == 'RGB' and out.size == (w, h)


def _png_claiming(w, h):
    "A valid 1x1 PNG whose header claims w x h pixels (a decompression bomb in 70 bytes)."
    b = bytearray(_encode(Image.new('L', (1, 1)), 'PNG'))
    ihdr = b[12:29]; ihdr[4:12] = struct.pack('>II', w, h)
    b[12:29] = ihdr; b[29:33] = struct.pack('>I', zlib.crc32(bytes(ihdr)))
    return bytes(b)


@FAST
@given(w=st.integers(7_000, 2**20), h=st.integers(7_000, 2**20))
def test_huge_declared_dimensions_are_refused_fast(w, h):
    with pytest.raises(ValueError, match=r'^huge\.png: '): load_rgb(_png_claiming(w, h), name='huge.png')


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bad=st.lists(st.binary(max_size=512), min_size=1, max_size=4))
def test_reader_keeps_good_cells_and_reports_bad_ones(tmp_path_factory, bad):
    root = tmp_path_factory.mktemp('cells')
    for c in ('a', 'b'):
        (root/c).mkdir()
        for i in range(2): Image.fromarray(CELL).save(root/c/f'good{i}.png')
    for i, data in enumerate(bad): (root/'a'/f'junk{i}.png').write_bytes(data)
    t = read_class_folders(root)
    reported = {Path(r['path']).name for r in t.attrs['report']}
    kept = set(t.path.map(lambda p: Path(p).name))
    assert {f'good{i}.png' for i in range(2)} <= kept and (t.label == t.path.map(lambda p: Path(p).parent.name)).all()   # labels never shift
    assert all(f'junk{i}.png' in reported | kept for i in range(len(bad)))   # each junk file is kept (it decodes) or reported
    ds = CellDataset(t, ['a', 'b'], cell_transforms(32))
    for i in range(len(ds)): assert ds[i][0].shape == (3, 32, 32)   # whatever was kept loads


# -- genomic tables --------------------------------------------------------------------------------------------------

COLS = ['KIT', 'NRAS_vaf', 'wbc', 'additional_cytogenetics']
cell_text = st.one_of(st.sampled_from(['', 'NA', 'nan', 'null', '0', '1', 'true', '0.5', '-1', '1e9', 'inf', '+8', 'none', 'abc', '12.5', ' 3 ']),
                      st.text(max_size=6), st.floats(allow_nan=True, allow_infinity=True).map(str))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.fixed_dictionaries({c: cell_text for c in COLS}), min_size=1, max_size=6))
def test_genomic_validator_is_exact(rows):
    df = pd.DataFrame(rows); df.insert(0, 'patient_id', [f'P{i}' for i in range(len(df))])
    bad = [(c, i) for c in COLS for i, r in enumerate(rows) if parse_value(r[c], GENOMIC_SCHEMA[c])[1]]
    try: g = read_genomics(df)
    except ValueError as e:
        assert bad, f"refused a valid table: {e}"
        assert f"{len(bad)} problem(s)" in str(e)   # all of them counted...
        named = re.findall(r"column '([^']+)', row (\d+) \(patient P(\d+)\)", str(e))
        assert len(named) == min(len(bad), 20) and {(c, int(r) - 1) for c, r, _ in named} <= set(bad)   # ...and those listed are real
        return
    assert not bad
    for c in COLS:   # what was accepted is in range or missing: never a silently wrong value
        f = GENOMIC_SCHEMA[c]
        for raw, v in zip(df[c], g[c]):
            if str(raw).strip().lower() in MISSING: assert pd.isna(v)
            elif f.kind == 'category': assert v in f.values
            else: assert f.lo <= v <= f.hi and math.isfinite(v)


@FAST
@given(st.binary(max_size=2048))
def test_random_bytes_as_a_genomic_csv(tmp_path_factory, data):
    p = tmp_path_factory.mktemp('g')/'genomics.csv'; p.write_bytes(data)
    try: g = read_genomics(p)
    except ValueError as e: assert str(e).startswith(str(p)), str(e)
    else: assert g.index.name == 'patient_id'


# -- names from folders and tables ------------------------------------------------------------------------------------

NAME = st.text(alphabet=st.characters(blacklist_categories=('Cs', 'Cc', 'Zl', 'Zp'), blacklist_characters='/\\'), min_size=1, max_size=10)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(classes=st.lists(NAME, min_size=2, max_size=4, unique=True), patients=st.lists(NAME, min_size=3, max_size=3))
def test_any_legal_name_round_trips_through_every_file(tmp_path_factory, classes, patients):
    "Class and patient names with commas, quotes, brackets, markup or non-ASCII survive CSV, JSON, Markdown and HTML."
    from markdown import markdown
    from aml_nb.evaluate import predictions_table, read_predictions
    from aml_nb.store import write_json, read_json
    from aml_nb.charts import md_table
    d = tmp_path_factory.mktemp('names')
    probs = np.random.default_rng(0).dirichlet(np.ones(len(classes)), 3)
    labels = [classes[i % len(classes)] for i in range(3)]
    p = predictions_table(['a.png', 'b.png', 'c.png'], labels, probs, classes, patients)
    p.to_csv(d/'p.csv', index=False)
    back = read_predictions(d/'p.csv')
    assert back.label.tolist() == labels and back.patient_id.tolist() == patients
    assert back.predicted.tolist() == p.predicted.tolist() and list(back.columns) == list(p.columns)
    write_json(d/'c.json', dict(classes=classes)); assert read_json(d/'c.json')['classes'] == classes
    page = markdown(md_table(p[['patient_id', 'label', 'predicted']]), extensions=['tables'])
    import html
    cells = re.findall(r'<td[^>]*>(.*?)</td>', page, re.S)
    assert not any('<' in c or '](' in c for c in cells)   # escaped: never live markup, never a Markdown link
    assert [html.unescape(c).strip() for c in cells] == [str(v).strip() for row in p[['patient_id', 'label', 'predicted']].itertuples(index=False) for v in row]
