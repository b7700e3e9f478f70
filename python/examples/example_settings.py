"""The command line the example scripts share: where the data is and how big the run is
(defaults: the HugeCTR sample's). Everything else in the scripts is HugeCTR's sample as written.

    --data DIR   HugeCTR's Norm file lists DIR/file_list.txt and DIR/file_list_test.txt (uint32
                 keys), or a folder that `swiftctr generate --out DIR` wrote (train_list.txt,
                 eval_list.txt, and the key width its dataset.json records)
"""

import argparse
import json
import os


def settings(sample, max_iter, batchsize, max_eval_batches, eval_interval=1000, display=200, lr=0.001):
    parser = argparse.ArgumentParser(description=f"HugeCTR's {sample} sample on SwiftCTR.")
    parser.add_argument("--data", default=f"./{sample}_data", help="data folder (default: %(default)s)")
    parser.add_argument("--max-iter", type=int, default=max_iter)
    parser.add_argument("--eval-interval", type=int, default=eval_interval)
    parser.add_argument("--display", type=int, default=display)
    parser.add_argument("--batchsize", type=int, default=batchsize)
    parser.add_argument("--batchsize-eval", type=int, default=batchsize)
    parser.add_argument("--max-eval-batches", type=int, default=max_eval_batches)
    parser.add_argument("--lr", type=float, default=lr)
    parser.add_argument("--seed", type=int, default=0, help="0: a random seed (HugeCTR's default)")
    parser.add_argument("--loop", action="store_true",
                        help="train with the low-level loop of single_node_test.py instead of model.fit")
    args = parser.parse_args()
    generated = os.path.join(args.data, "dataset.json")
    if os.path.exists(generated):
        with open(generated) as f:
            args.i64_input_key = bool(json.load(f).get("i64Keys", True))
        args.source, args.eval_source = (os.path.join(args.data, n) for n in ("train_list.txt", "eval_list.txt"))
    else:
        args.i64_input_key = False
        args.source, args.eval_source = (os.path.join(args.data, n) for n in ("file_list.txt", "file_list_test.txt"))
    return args
