"""Run instructor source notebooks top to bottom in student mode and record their headline figures.

    python benchmarks/run_notebooks.py assignment1            # every notebook of assignment1
    python benchmarks/run_notebooks.py assignment1/knn.ipynb  # one notebook
    python benchmarks/run_notebooks.py --write assignment1    # also update docs/RESULTS.md

Student mode means the full experiment (no NBGRADER_EXECUTION), on real CIFAR-10: the script refuses
to run on the synthetic dataset unless --dataset synthetic is given. `make results` calls it with
--write for every assignment. Each notebook runs in its own kernel, from its own folder (so sibling
imports work), and the figures are read from the notebook's global variables listed in FIGURES.
"""

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]

#: notebook -> (global variable, what it is, the original course's figure for comparison)
FIGURES: dict[str, list[tuple[str, str, str]]] = {
    "knn": [("accuracy_k1", "test accuracy, k = 1", "about 0.27"),
            ("best_k", "cross-validated k", "about 10"),
            ("test_accuracy", "test accuracy, cross-validated k", "about 0.28"),
            ("l1_accuracy_k1", "test accuracy, k = 1, L1 distance", ""),
            ("best_distance", "cross-validated distance", "")],
    "svm": [("svm_val_accuracy", "validation accuracy, best SVM", "0.38-0.40"),
            ("svm_test_accuracy", "test accuracy, best SVM", "about 0.37"),
            ("grid_best_val", "best validation, 3x3 grid search", ""),
            ("random_best_val", "best validation, 9 random trials", "")],
    "softmax": [("softmax_val_accuracy", "validation accuracy, best softmax", "0.35-0.37"),
                ("softmax_test_accuracy", "test accuracy, best softmax", "about 0.36")],
    "two_layer_net": [("best_val_acc", "validation accuracy, best net", "> 0.48"),
                      ("test_acc", "test accuracy, best net", "0.50-0.53")],
    "features": [("best_val_svm", "validation accuracy, SVM on features", "about 0.44"),
                 ("best_net_val", "validation accuracy, net on features", "about 0.58"),
                 ("net_test_acc", "test accuracy, net on features", "> 0.55")],
    "FullyConnectedNets": [("best_val_acc", "validation accuracy, best fully connected net", ">= 0.50"),
                           ("best_test_acc", "test accuracy, best fully connected net", "about 0.50-0.55")],
    "BatchNormalization": [("bn_best_val_acc", "best validation with batch norm (1000 images)", ""),
                           ("baseline_best_val_acc", "best validation without (1000 images)", ""),
                           ("bn_speedup", "speed-up of the simplified backward", "")],
    "Dropout": [("dropout_best_val_acc", "best validation per keep probability", "")],
    "ConvolutionalNetworks": [("overfit_train_acc", "overfit 100 images: training accuracy", "about 1.0"),
                              ("one_epoch_train_acc", "one epoch: training accuracy", "> 0.40"),
                              ("best_val_acc", "validation accuracy, best ConvNet", ">= 0.65"),
                              ("best_train_seconds", "training time of the best ConvNet, s", "<= 1800"),
                              ("best_test_acc", "test accuracy, best ConvNet", "")],
    "CNNArchitectures": [("vgg16_params", "VGG-16 parameters", "138M"),
                         ("vgg16_activations", "VGG-16 activation values per image (input + every layer output)",
                          "24M on the slide (its rows add up to 15.2M)"),
                         ("plain_val_acc", "validation accuracy, plain net, 21 conv layers", ""),
                         ("resnet_val_acc", "validation accuracy, residual net, same depth", ""),
                         ("plain_train_acc", "training accuracy, plain net", ""),
                         ("resnet_train_acc", "training accuracy, residual net", ""),
                         ("best_resnet_val_acc", "validation accuracy, best residual net", ""),
                         ("best_resnet_test_acc", "test accuracy, best residual net", "")],
    "ActivationsAndTraining": [("sigmoid_first_to_last", "10-layer sigmoid net: first / last layer gradient norm", ""),
                               ("dead_fraction", "dead ReLUs per hidden layer, per learning rate", ""),
                               ("schedule_best_val_acc", "best validation per learning-rate schedule", ""),
                               ("raw_val_acc", "validation, final raw parameters, per schedule", ""),
                               ("polyak_val_acc", "validation, Polyak-averaged parameters, per schedule", ""),
                               ("best_member_val_acc", "validation, best checkpoint of the ensemble", ""),
                               ("ensemble_val_acc", "validation, ensemble of checkpoints", "")],
    "Transformer_Captioning": [("overfit_final_loss", "overfit 50 captions: final training loss", "near 0"),
                               ("compare_updates", "updates in equal CPU time (RNN, LSTM, Transformer)", ""),
                               ("compare_val_loss", "validation loss after equal CPU time", ""),
                               ("compare_bleu", "BLEU-1, first 500 validation images", "")],
    "VisionTransformer": [("vit_num_params", "tiny ViT parameters", ""),
                          ("vit_val_acc", "validation accuracy, tiny ViT, no augmentation", ""),
                          ("vit_test_acc", "test accuracy, tiny ViT", ""),
                          ("vit_train_cpu", "tiny ViT training CPU seconds", ""),
                          ("convnet_num_params", "ConvNet parameters", ""),
                          ("convnet_val_acc", "validation accuracy, ConvNet, same recipe", ""),
                          ("convnet_test_acc", "test accuracy, ConvNet", ""),
                          ("convnet_train_cpu", "ConvNet training CPU seconds", "")],
}

MARK_BEGIN, MARK_END = "<!-- notebook-results:begin -->", "<!-- notebook-results:end -->"


def collect(names: list[str]) -> str:
    return ("import json as _json\n"
            f"print('__FIGURES__' + _json.dumps({{n: (globals()[n].item() if hasattr(globals()[n], 'item') "
            f"else globals()[n]) for n in {names!r} if n in globals()}}, default=str))\n")


def run_notebook(path: Path, dataset: str) -> dict:
    nb = nbformat.read(path, as_version=4)
    names = [v for v, _, _ in FIGURES.get(path.stem, [])]
    nb.cells.append(nbformat.v4.new_code_cell(collect(names)))
    env_backup = dict(os.environ)
    os.environ.pop("NBGRADER_EXECUTION", None)
    os.environ["CS231N_DATASET"] = dataset
    tic = time.perf_counter()
    error = None
    try:
        NotebookClient(nb, timeout=3600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
                       ).execute()
    except Exception as exc:  # noqa: BLE001 - reported in the results
        error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    finally:
        os.environ.clear()
        os.environ.update(env_backup)
    seconds = time.perf_counter() - tic
    figures = {}
    for out in nb.cells[-1].get("outputs", []):
        m = re.search(r"__FIGURES__(\{.*\})", out.get("text", ""))
        if m:
            figures = json.loads(m.group(1))
    return {"notebook": f"{path.parent.name}/{path.name}", "seconds": round(seconds, 1), "error": error,
            "figures": figures, "dataset": dataset}


def table(results: list[dict]) -> str:
    lines = ["| notebook | figure | this kit | original course | notebook run time |", "|---|---|---|---|---|"]
    for r in results:
        stem = Path(r["notebook"]).stem
        for var, what, original in FIGURES.get(stem, []):
            value = r["figures"].get(var, "missing")
            shown = f"{value:.3f}" if isinstance(value, float) else str(value)
            lines.append(f"| {r['notebook']} | {what} | {shown} | {original} | {r['seconds'] / 60:.1f} min |")
        if r["error"]:
            lines.append(f"| {r['notebook']} | ERROR | {r['error']} | | |")
    return "\n".join(lines)


def write_results(results: list[dict]) -> None:
    page = ROOT / "docs" / "RESULTS.md"
    text = page.read_text()
    machine = f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d')}"
    block = (f"{MARK_BEGIN}\nMeasured by `make results` (student mode, real CIFAR-10; {machine}).\n\n"
             f"{table(results)}\n{MARK_END}")
    if MARK_BEGIN in text:
        text = re.sub(re.escape(MARK_BEGIN) + ".*?" + re.escape(MARK_END), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n## Reference solutions in student mode\n\n" + block + "\n"
    page.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="+", help="assignment folders or notebooks")
    parser.add_argument("--dataset", default="cifar10", choices=["cifar10", "synthetic"])
    parser.add_argument("--write", action="store_true", help="update docs/RESULTS.md")
    args = parser.parse_args()
    paths = []
    for t in args.targets:
        p = (ROOT / t) if not Path(t).is_absolute() else Path(t)
        paths += sorted(p.glob("*.ipynb")) if p.is_dir() else [p]
    results = []
    for p in paths:
        print(f"running {p.relative_to(ROOT)} ...", flush=True)
        r = run_notebook(p, args.dataset)
        print(f"  {r['seconds']:.0f} s, figures {r['figures']}" + (f", ERROR {r['error']}" if r["error"] else ""))
        results.append(r)
    print(table(results))
    if args.write:
        write_results(results)
    return 1 if any(r["error"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
