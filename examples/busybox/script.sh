# Run by `busybox sh` inside the guest. Every command is a busybox applet;
# `set -e` makes the first failure end the run with a non-zero status.
set -e
echo "--- echo"
echo "busybox sh in osvb, pid $$"
echo "--- ls -l /"
ls -l /
echo "--- cat /data/words.txt"
cat /data/words.txt
echo "--- sha256sum /data/words.txt"
sha256sum /data/words.txt
echo "--- seq 1 5"
seq 1 5
echo "--- sort /data/words.txt"
sort /data/words.txt
echo "busybox: all applets ran"
