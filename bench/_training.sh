# Sourced by bench/thread_share.sh and bench/train_beside_dashboard.sh: the training both time, on the same terms.
# Needs DATA (created as the built-in real cells when missing); sets TMP; defines
#   train NAME SEED   resnet18 at 64 px, the quick preset for 3 epochs, into $TMP/NAME (log $TMP/NAME.log)
#   ips NAME          its training throughput, img/s, as recorded in $TMP/NAME/train.json
export HF_HUB_OFFLINE=1
TMP=$(mktemp -d)
[ -d "$DATA" ] || aml-nb demo-data --real "$DATA" > /dev/null
train() { aml-nb train --data "$DATA" --arch resnet18 --preset quick --epochs 3 --seed "$2" --out "$TMP/$1" > "$TMP/$1.log" 2>&1; }
ips() { python -c "import json,sys; print(round(json.load(open(sys.argv[1]))['train_img_per_s'], 1))" "$TMP/$1/train.json"; }
