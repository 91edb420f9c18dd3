"""Benchmark of cs231n.fast_layers on the current machine, one BLAS thread, side by side.

    .venv/bin/python benchmarks/bench_fast_layers.py            # print the tables
    .venv/bin/python benchmarks/bench_fast_layers.py --write    # also replace the "Fast layers"
                                                                # section of docs/RESULTS.md

Measures, in one run: the machine's NumPy GEMM rate (square 2048), four-nested-loop convolution and
pooling (benchmarks/loop_layers.py, not in cs231n/: the naive layers are a student exercise), the fast layers with
both backends ("cython" and "numpy"), the im2col / col2im copy rates, and PyTorch's CPU conv2d and
max_pool2d when torch is installed. Implementations are timed in interleaved rounds (one call of each
per round), so a busy machine slows all of them alike; figures are medians.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from loop_layers import (  # noqa: E402  (beside this script)
    conv_backward_loops,
    conv_forward_loops,
    max_pool_backward_loops,
    max_pool_forward_loops,
)

from cs231n import fast_layers  # noqa: E402

IMPORT_BACKEND = fast_layers.BACKEND  # "cython" when the extension is built: what students get

try:
    import torch
except ImportError:
    torch = None

CONV_SHAPES = {
    # name: (x shape, w shape, stride, pad)
    "A_s2": ((100, 3, 31, 31), (25, 3, 3, 3), 2, 1),
    "A_s1": ((100, 3, 31, 31), (25, 3, 3, 3), 1, 1),
    "cifar7": ((50, 3, 32, 32), (32, 3, 7, 7), 1, 3),
    "c64": ((64, 64, 16, 16), (64, 64, 3, 3), 1, 1),
}
POOL_SHAPES = {"pool_A": (100, 3, 32, 32), "pool_c64": (64, 64, 16, 16)}
POOL_PARAM = {"pool_height": 2, "pool_width": 2, "stride": 2}


# ----------------------------------------------------------------------------------------------------
# Timing


def interleaved(funcs: dict, rounds: int) -> dict[str, float]:
    """Median seconds per call of each function, timed one call of each per round (after a warm-up)."""
    for f in funcs.values():
        f()
    times: dict[str, list[float]] = {name: [] for name in funcs}
    for _ in range(rounds):
        for name, f in funcs.items():
            t0 = time.perf_counter()
            f()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(ts) for name, ts in times.items()}


def once(f) -> float:
    t0 = time.perf_counter()
    f()
    return time.perf_counter() - t0


def gemm_rate(n: int, dtype, rounds: int) -> float:
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, n, n)).astype(dtype)
    c = np.empty((n, n), dtype=dtype)
    t = interleaved({"gemm": lambda: np.matmul(a, b, out=c)}, rounds)["gemm"]
    return 2 * n**3 / t / 1e9


def minor_faults_per_call(f, calls: int = 5) -> float:
    f()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(calls):
        f()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / calls


# ----------------------------------------------------------------------------------------------------
# Benchmarks


def bench_conv(name, rounds, naive, dtype):
    x_shape, w_shape, stride, pad = CONV_SHAPES[name]
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    param = {"stride": stride, "pad": pad}
    N, C, H, W = x_shape
    F, _, HH, WW = w_shape
    Ho, Wo = 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride
    flops = 2 * N * F * Ho * Wo * C * HH * WW  # forward; backward (dx and dw) is twice that
    dout = rng.standard_normal((N, F, Ho, Wo)).astype(dtype)

    funcs, caches, outs = {}, {}, {}
    for backend in ("cython", "numpy"):
        if backend == "cython" and fast_layers._cython_ops is None:
            continue
        fast_layers.set_backend(backend)
        outs[backend], caches[backend] = fast_layers.conv_forward_fast(x, w, b, param)

        def fwd(backend=backend):
            fast_layers.set_backend(backend)
            fast_layers.conv_forward_fast(x, w, b, param)

        def bwd(backend=backend):
            fast_layers.set_backend(backend)
            fast_layers.conv_backward_fast(dout, caches[backend])

        funcs[f"{backend} fwd"], funcs[f"{backend} bwd"] = fwd, bwd
    if torch is not None:
        xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
        dt = torch.tensor(dout)

        def tfwd():
            with torch.no_grad():
                torch.nn.functional.conv2d(xt, wt, bt, stride=stride, padding=pad)

        tout = torch.nn.functional.conv2d(xt, wt, bt, stride=stride, padding=pad)
        outs["torch"] = tout.detach().numpy()
        funcs["torch fwd"] = tfwd
        funcs["torch bwd"] = lambda: torch.autograd.grad(tout, (xt, wt, bt), dt, retain_graph=True)
    # The square-GEMM rate is measured in the same rounds, so "% GEMM" compares like with like even
    # when other jobs share the machine.
    a, bm = np.random.default_rng(1).standard_normal((2, 2048, 2048)).astype(dtype)
    c = np.empty_like(a)
    funcs["gemm"] = lambda: np.matmul(a, bm, out=c)
    t = interleaved(funcs, rounds)
    gemm_peak = 2 * 2048**3 / t.pop("gemm") / 1e9
    rows = []
    for impl in ("cython", "numpy", "torch"):
        if f"{impl} fwd" not in t:
            continue
        tf, tb = t[f"{impl} fwd"], t[f"{impl} bwd"]
        rows.append(
            {
                "impl": impl,
                "fwd": tf,
                "bwd": tb,
                "gf_fwd": flops / tf / 1e9,
                "gf_bwd": 2 * flops / tb / 1e9,
                "peak_fwd": flops / tf / 1e9 / gemm_peak,
                "peak_bwd": 2 * flops / tb / 1e9 / gemm_peak,
                "err": float(np.max(np.abs(outs[impl] - outs["numpy"])) / np.max(np.abs(outs["numpy"]))),
            }
        )
    if naive:
        x64, w64, b64, d64 = (a.astype(np.float64) for a in (x, w, b, dout))
        tf = once(lambda: conv_forward_loops(x64, w64, b64, stride, pad))
        tb = once(lambda: conv_backward_loops(d64, x64, w64, stride, pad))
        rows.insert(0, {"impl": "four nested loops", "fwd": tf, "bwd": tb, "gf_fwd": flops / tf / 1e9,
                        "gf_bwd": 2 * flops / tb / 1e9, "peak_fwd": flops / tf / 1e9 / gemm_peak,
                        "peak_bwd": 2 * flops / tb / 1e9 / gemm_peak, "err": 0.0})  # fmt: skip
    faults = {}
    for backend in caches:
        fast_layers.set_backend(backend)
        faults[backend] = minor_faults_per_call(
            lambda: fast_layers.conv_backward_fast(dout, fast_layers.conv_forward_fast(x, w, b, param)[1])
        )
    fast_layers.set_backend(IMPORT_BACKEND)
    return rows, faults, gemm_peak


def bench_copies(name, rounds, dtype, images=None):
    """im2col and col2im alone (into reused buffers), in GB/s of column matrix, beside a plain copy.
    With `images`, on that many images only (the chunk the conv layers work on at a time)."""
    x_shape, w_shape, stride, pad = CONV_SHAPES[name]
    x = np.random.default_rng(0).standard_normal(x_shape).astype(dtype)[:images]
    x_shape = x.shape
    HH, WW = w_shape[2:]
    ops = {"numpy": fast_layers._numpy_ops}
    if fast_layers._cython_ops is not None:
        ops["cython"] = fast_layers._cython_ops
    cols = ops["numpy"].im2col(x, HH, WW, pad, stride)
    copy_dst = np.empty_like(cols)
    dx = np.zeros_like(x)
    funcs = {"plain copy": lambda: np.copyto(copy_dst, cols)}
    for key, mod in ops.items():
        funcs[f"{key} im2col"] = lambda mod=mod: mod.im2col(x, HH, WW, pad, stride, out=cols)
        funcs[f"{key} col2im"] = lambda mod=mod: mod.col2im(cols, x_shape, HH, WW, pad, stride, out=dx)
    t = interleaved(funcs, rounds * (1 if images is None else 20))
    return cols.nbytes, {k: (v, cols.nbytes / v / 1e9) for k, v in t.items()}


def layer_chunk(name) -> int:
    """Images per chunk in the conv layers for this shape (float64)."""
    x_shape, w_shape, stride, pad = CONV_SHAPES[name]
    Ho = 1 + (x_shape[2] + 2 * pad - w_shape[2]) // stride
    Wo = 1 + (x_shape[3] + 2 * pad - w_shape[3]) // stride
    per_image = (w_shape[1] * w_shape[2] * w_shape[3] + 1) * Ho * Wo * 8
    return max(1, min(x_shape[0], fast_layers.CHUNK_BYTES // per_image))


def bench_pool(name, rounds, naive):
    """Max pooling: the fast layer (the backend chosen at import), PyTorch's, optionally four nested loops."""
    x = np.random.default_rng(0).standard_normal(POOL_SHAPES[name])
    out, cache = fast_layers.max_pool_forward_fast(x, POOL_PARAM)
    dout = np.random.default_rng(1).standard_normal(out.shape)
    funcs = {
        "fast fwd": lambda: fast_layers.max_pool_forward_fast(x, POOL_PARAM),
        "fast bwd": lambda: fast_layers.max_pool_backward_fast(dout, cache),
    }
    if torch is not None:
        xt = torch.tensor(x, requires_grad=True)
        tout = torch.nn.functional.max_pool2d(xt, 2, 2)
        dt = torch.tensor(dout)

        def tfwd():
            with torch.no_grad():
                torch.nn.functional.max_pool2d(xt, 2, 2)

        funcs["torch fwd"] = tfwd
        funcs["torch bwd"] = lambda: torch.autograd.grad(tout, xt, dt, retain_graph=True)
    t = interleaved(funcs, rounds)
    if naive:
        t["loops fwd"] = statistics.median(once(lambda: max_pool_forward_loops(x, 2, 2, 2)) for _ in range(3))
        t["loops bwd"] = statistics.median(once(lambda: max_pool_backward_loops(dout, x, 2, 2, 2)) for _ in range(3))
    return x.nbytes + out.nbytes, t


# ----------------------------------------------------------------------------------------------------
# Report


def machine_description() -> list[str]:
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    flags = ""
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
        flags = "AVX-512" if "avx512f" in text else ("AVX2" if "avx2" in text else "")
    except OSError:
        pass
    blas = [
        f"{i['internal_api']} {i.get('version', '?')} kernel {i.get('architecture', '?')}"
        for i in threadpool_info()
        if i["user_api"] == "blas"
    ]
    env = {k: os.environ.get(k, "unset") for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    return [
        f"- Machine: {os.cpu_count()} vCPU {cpu} ({flags}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, NumPy {np.__version__}"
        + (f", PyTorch {torch.__version__}" if torch is not None else ", PyTorch not installed"),
        f"- BLAS: {'; '.join(blas)}; OPENBLAS_CORETYPE={env['OPENBLAS_CORETYPE']}, "
        f"OPENBLAS_L2_SIZE={env['OPENBLAS_L2_SIZE']}; limited to 1 thread (threadpoolctl)",
        f"- Fast-layer backend at import: {fast_layers.BACKEND}; date "
        f"{datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; load average before the run "
        f"{os.getloadavg()[0]:.2f} (other jobs on the machine slow every implementation alike)",
    ]


def ms(t: float) -> str:
    return f"{t * 1e3:.3g}" if t < 1 else f"{t * 1e3:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=11, help="timed rounds per figure (median)")
    parser.add_argument("--quick", action="store_true", help="loop references on the notebook shape only")
    parser.add_argument("--write", action="store_true", help="write the tables into docs/RESULTS.md")
    parser.add_argument(
        "--default-blas",
        action="store_true",
        help="then run again (quick) with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, and report both",
    )
    parser.add_argument("--lines-to", help=argparse.SUPPRESS)  # used by --default-blas
    args = parser.parse_args()

    threadpool_limits(1)
    if torch is not None:
        torch.set_num_threads(1)
    lines = machine_description()
    print("\n".join(lines), flush=True)

    peak = {np.float64: gemm_rate(2048, np.float64, 5), np.float32: gemm_rate(2048, np.float32, 5)}
    lines += [
        f"- NumPy GEMM rate, square 2048, 1 thread, before the run: {peak[np.float64]:.1f} GFLOP/s "
        f"float64, {peak[np.float32]:.1f} GFLOP/s float32 (the ceiling for im2col convolution). '% GEMM' "
        "below is relative to the same GEMM timed in the same interleaved rounds as each shape",
        "",
    ]
    print("\n".join(lines[-2:]), flush=True)

    results: dict = {}
    for dtype in (np.float64, np.float32):
        label = np.dtype(dtype).name
        table = [
            f"Convolution, {label}, ms forward / backward (dx, dw, db), GFLOP/s and % GEMM of each "
            "(backward counts 2x the forward FLOPs):",
            "",
            "| shape | implementation | fwd ms | bwd ms | fwd+bwd ms | fwd GF/s (% GEMM) | "
            "bwd GF/s (% GEMM) | max rel. diff |",
            "|---|---|---|---|---|---|---|---|",
        ]
        print("\n".join(table), flush=True)
        for name in CONV_SHAPES:
            naive = dtype == np.float64 and (not args.quick or name == "A_s2")
            rows, faults, gemm_peak = bench_conv(name, args.rounds, naive, dtype)
            results[(label, name)] = {r["impl"]: r for r in rows}
            results[(label, name, "faults")] = faults
            for r in rows:
                table.append(
                    f"| {name} | {r['impl']} | {ms(r['fwd'])} | {ms(r['bwd'])} | {ms(r['fwd'] + r['bwd'])} | "
                    f"{r['gf_fwd']:.3g} ({100 * r['peak_fwd']:.2g}%) | {r['gf_bwd']:.3g} "
                    f"({100 * r['peak_bwd']:.2g}%) | {r['err']:.1e} |"
                )
            table.append(f"| {name} | NumPy square-2048 GEMM, same rounds | | | | {gemm_peak:.1f} (100%) | | |")
            print("\n".join(table[-len(rows) - 1 :]), flush=True)
        lines += [*table, ""]

    table = [
        "im2col / col2im alone (float64, into reused buffers), ms and GB/s of column matrix, beside a "
        "plain copy of the same bytes; on the whole batch, and on the chunk of images the layers "
        "process at a time (its columns stay in cache):",
        "",
        "| shape | images | columns MB | plain copy | cython im2col | cython col2im | numpy im2col | numpy col2im |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in CONV_SHAPES:
        for images in (None, layer_chunk(name)):
            nbytes, t = bench_copies(name, args.rounds, np.float64, images)
            results[("copies", name, images is not None)] = t
            cells = [
                f"{ms(t[k][0])} ms, {t[k][1]:.1f} GB/s" if k in t else "n/a"
                for k in ("plain copy", "cython im2col", "cython col2im", "numpy im2col", "numpy col2im")
            ]
            count = CONV_SHAPES[name][0][0] if images is None else f"{images} (layer chunk)"
            table.append(f"| {name} | {count} | {nbytes / 1e6:.2f} | " + " | ".join(cells) + " |")
    lines += [*table, ""]
    print("\n".join(table), flush=True)

    table = [
        "Max pooling 2x2 stride 2, float64, ms (GB/s of input + output):",
        "",
        "| shape | loops fwd / bwd | fast fwd / bwd | torch fwd / bwd | fast fwd speed-up vs loops |",
        "|---|---|---|---|---|",
    ]
    for name, shape in POOL_SHAPES.items():
        nbytes, t = bench_pool(name, args.rounds, naive=True)
        results[("pool", name)] = t

        def pair(prefix, t=t, nbytes=nbytes):
            if f"{prefix} fwd" not in t:
                return "n/a"
            f, b = t[f"{prefix} fwd"], t[f"{prefix} bwd"]
            return f"{ms(f)} ({nbytes / f / 1e9:.1f}) / {ms(b)}"

        table.append(
            f"| {shape} | {pair('loops')} | {pair('fast')} | {pair('torch')} | {t['loops fwd'] / t['fast fwd']:.0f}x |"
        )
    lines += [*table, ""]
    print("\n".join(table), flush=True)

    verdicts = targets(results, peak)
    lines += [
        f"Targets (measured in this run; load average after it {os.getloadavg()[0]:.2f}):",
        "",
        *verdicts,
        "",
    ]
    print("\n".join(verdicts), flush=True)

    if args.default_blas:
        lines += default_blas_run(args.rounds)
    if args.lines_to:
        Path(args.lines_to).write_text("\n".join(lines))
    if args.write:
        write_results(lines)


def default_blas_run(rounds: int) -> list[str]:
    """The quick benchmark in a fresh process with OpenBLAS choosing its own kernel."""
    import subprocess
    import tempfile

    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "lines.md"
        cmd = [sys.executable, __file__, "--quick", "--rounds", str(rounds), "--lines-to", str(out)]
        print("\n$ (OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset)", " ".join(cmd[1:]), flush=True)
        subprocess.run(cmd, env=env, check=True)
        child = out.read_text().splitlines()
    return [
        "### The same, with OpenBLAS's default kernel choice (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE unset)",
        "",
        *child,
        "",
    ]


def targets(results: dict, peak: dict) -> list[str]:
    out = []

    def check(ok: bool, text: str) -> None:
        out.append(f"- {'MET' if ok else 'MISSED'}: {text}")

    have_torch = ("float64", "A_s2") in results and "torch" in results[("float64", "A_s2")]
    fast = "cython" if "cython" in results[("float64", "A_s2")] else "numpy"
    for name, limit in (("A_s2", 1.0), ("A_s1", 1.0), ("cifar7", 0.8), ("c64", 0.8)):
        r = results[("float64", name)]
        ours = r[fast]["fwd"] + r[fast]["bwd"]
        if have_torch:
            theirs = r["torch"]["fwd"] + r["torch"]["bwd"]
            check(
                ours <= limit * theirs,
                f"{name} float64 fwd+bwd {ms(ours)} ms <= {limit}x PyTorch's {ms(theirs)} ms "
                f"(ratio {ours / theirs:.2f})",
            )
    c64 = results[("float64", "c64")][fast]
    check(c64["peak_fwd"] >= 0.5, f"c64 forward at {100 * c64['peak_fwd']:.0f}% of the square-GEMM rate (>= 50%)")
    if fast == "cython":
        # The target (>= 15 GB/s) is for the copies the layers make: on cache-sized chunks.
        rates = [results[("copies", n, True)][k][1] for n in CONV_SHAPES for k in ("cython im2col", "cython col2im")]
        check(
            min(rates) >= 15,
            f"Cython im2col/col2im copy rates on the layer's chunks {min(rates):.1f}-{max(rates):.1f} GB/s (>= 15)",
        )
        # A whole batch does not fit in cache: its rate is bounded by memory bandwidth (the plain copy
        # of the same bytes, timed in the same rounds, shows how much of it is left).
        pairs = [(results[("copies", n, False)][k][1], results[("copies", n, False)]["plain copy"][1])
                 for n in CONV_SHAPES for k in ("cython im2col", "cython col2im")]  # (rate, plain copy's rate)
        whole = [rate for rate, _ in pairs]
        fractions = [rate / plain for rate, plain in pairs]
        check(
            min(whole) >= 15,
            f"Cython im2col/col2im copy rates on whole batches {min(whole):.1f}-{max(whole):.1f} GB/s (>= 15), "
            f"{min(fractions):.2f}-{max(fractions):.2f}x the rate of a plain copy of the same bytes",
        )
    a = results[("float64", "A_s2")]
    if "four nested loops" in a:
        for part in ("fwd", "bwd"):
            ratio = a["four nested loops"][part] / a[fast][part]
            check(ratio >= 500, f"A_s2 {part} {ratio:.0f}x faster than four nested loops (>= 500x)")
    for name in POOL_SHAPES:
        t = results[("pool", name)]
        ratio = t["loops fwd"] / t["fast fwd"]
        check(ratio >= 500, f"{name} pooling forward {ratio:.0f}x faster than loops (>= 500x)")
        if "torch fwd" in t:
            check(
                t["fast fwd"] <= t["torch fwd"],
                f"{name} pooling forward {ms(t['fast fwd'])} ms vs PyTorch {ms(t['torch fwd'])} ms",
            )
    if fast == "cython":
        worst = max(
            (results[("float64", n)]["numpy"]["fwd"] + results[("float64", n)]["numpy"]["bwd"])
            / (results[("float64", n)]["cython"]["fwd"] + results[("float64", n)]["cython"]["bwd"])
            for n in CONV_SHAPES
        )
        check(worst <= 2, f"NumPy fallback fwd+bwd at most {worst:.2f}x the Cython backend's (<= 2x)")
    if have_torch:
        worst = max(results[("float32", n)][fast]["fwd"] / results[("float32", n)]["torch"]["fwd"] for n in CONV_SHAPES)
        check(worst <= 3, f"float32 forward at most {worst:.2f}x PyTorch float32's (<= 3x)")
    faults = max(max(results[("float64", n, "faults")].values()) for n in CONV_SHAPES)
    check(faults < 100, f"at most {faults:.0f} minor page faults per fast conv forward+backward call")
    return out


def write_results(lines: list[str]) -> None:
    path = ROOT / "docs" / "RESULTS.md"
    text = path.read_text()
    heading = "## Fast layers"
    start = text.index(heading)
    nxt = re.search(r"^## ", text[start + len(heading) :], flags=re.MULTILINE)
    end = start + len(heading) + nxt.start() if nxt else len(text)
    body = [
        heading,
        "",
        "Measured by `benchmarks/bench_fast_layers.py --write` (1 BLAS thread, medians of interleaved "
        "rounds). Shapes: A_s2 = x (100,3,31,31), w (25,3,3,3), stride 2, pad 1 (the original "
        "notebook's); A_s1 = the same with stride 1; cifar7 = x (50,3,32,32), w (32,3,7,7), pad 3; "
        "c64 = x (64,64,16,16), w (64,64,3,3), pad 1.",
        "",
        "How the fast layers work (`cs231n/fast_layers.py`): convolution is im2col into an (n, K + 1, P) "
        "column block per chunk of n images sized to stay in a core's L2 cache (1 MB), with a row of ones "
        "so that one batched GEMM per chunk adds the biases and writes the NCHW output directly; the "
        "backward pass rebuilds each chunk's columns (the cache keeps only x), accumulates [dw | db] and "
        "folds w.T @ dout back with col2im. Column workspaces are reused between calls, so no call "
        "page-faults on them. Max pooling forward is one pass over the input in the compiled extension "
        "(the NumPy backend: an elementwise maximum over the pool_height * pool_width strided views); the "
        "backward pass compares those views with the output; ties send the whole gradient to the first "
        "maximum of the window in row-major order.",
        "",
        "Caveat: when other jobs share the machine (see the load averages), absolute figures vary by up "
        "to 2x between runs and against `../shared/PERF.md`'s quiet-machine figures; the ratios between "
        "implementations timed in the same interleaved rounds are the meaningful part. The four-nested-"
        "loop figures are single runs (pooling loops: median of 3). 'Whole batch' im2col rates are "
        "memory-bound and are not what the layers do (they work on cache-sized chunks).",
        "",
        *lines,
    ]
    path.write_text(text[:start] + "\n".join(body).rstrip() + "\n\n" + text[end:])
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
