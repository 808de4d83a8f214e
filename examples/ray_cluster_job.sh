#!/usr/bin/env bash
# Run `deluge-ray run` as a Ray job on a Ray cluster.
#
#   RAY_ADDRESS=http://HEAD:8265 examples/ray_cluster_job.sh            # submit the job
#   examples/ray_cluster_job.sh --local                                 # same command, here
#
# `ray job submit` uploads this folder (examples/) as the job's working directory and runs
# the command after `--` on the cluster, where the job's driver finds RAY_ADDRESS already
# set, so `deluge-ray run` joins the cluster instead of starting a Ray of its own. Its
# ProviderCaller actors spread over the nodes; the shared RateLimiter keeps every job that
# uses the same API key under one limit. `--local` runs the identical command on this
# machine (against the provider or the mock that OPENAI_BASE_URL points to).
#
# Environment:
#   MODEL    model name (default gpt-4.1-mini)
#   OUTPUT   results file (default results.jsonl). A Ray job runs in a temporary copy of
#            the working directory on the node that runs its driver, so on a cluster give
#            an absolute path on storage that outlives the job (a shared filesystem).
#            Re-submitting with the same OUTPUT resumes: ids already in it are skipped.
#   RATE     requests per minute, shared by everything using the key (default 1000)
#
# Submitting needs Ray's dashboard client: `pip install -e '.[cluster]'` (ray[default]) on the
# machine you submit from. deluge-ray must be installed on every node (in the cluster image,
# or add a runtime_env `pip` entry to the submit command).
#
# API keys on a remote cluster
# ----------------------------
# The job's driver reads OPENAI_API_KEY (ANTHROPIC_API_KEY, ...) from its own environment
# on the cluster, not from the shell that runs `ray job submit`. Do NOT hand the key over
# with `--runtime-env-json '{"env_vars": {"OPENAI_API_KEY": ...}}'`: a runtime_env is
# stored with the job, shown by `ray job list` and the dashboard, and written to log files.
# The safe ways:
#   * put the key in the environment of the cluster's Ray processes when the nodes start
#     (the process that runs `ray start`; on Kubernetes, a Secret exposed as an environment
#     variable of the KubeRay head and worker pods; on VMs, an env file readable only by the
#     Ray user), or
#   * have the nodes fetch it from a secrets manager (AWS Secrets Manager, GCP Secret
#     Manager, Vault) into that environment at start-up.
# deluge-ray then reads the key on the driver and passes it to its actors inside the
# calls, masked in every repr; it never puts keys in a runtime_env or an actor name.
#
# Rehearse first: add --dry-run to print the token count and worst-case cost without
# calling anything, or point OPENAI_BASE_URL at `deluge-ray mock-server` on the cluster.

set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MODEL="${MODEL:-gpt-4.1-mini}"
OUTPUT="${OUTPUT:-results.jsonl}"
RATE="${RATE:-1000}"

# Paths are relative to the working directory (this folder), here and on the cluster.
JOB=(deluge-ray run data/prompts.jsonl -m "$MODEL" -o "$OUTPUT" --rpm "$RATE" --progress manual)

if [[ "${1:-}" == "--local" ]]; then
    cd "$HERE"
    exec "${JOB[@]}"
fi

exec ray job submit --working-dir "$HERE" -- "${JOB[@]}"
