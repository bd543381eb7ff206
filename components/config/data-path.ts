/**
 * Parsing of how fast Velero moves volume data: the node agent's loads per node and kopia's files per load
 * (README "Recovery time"). One place for these rules, apart from Velero's other keys.
 */
import { CONFIG_KEYS } from "./keys";
import { ConfigReader, q, rmCmd, setListCmd } from "./reader";
import type { DataPathSettings, NodeConcurrency, VolumeDataMode } from "./types";
import { isLabelKey, isLabelValue } from "./values";

/**
 * Highest loads per node the program accepts. Velero sets no roof (docs `node-agent-concurrency.md`), but every
 * load is a data-mover pod with BestEffort QoS by default (docs `data-movement-pod-resource-configuration.md`):
 * a typo like 200 would start that many kopia processes on one node.
 */
export const MAX_LOADS_PER_NODE = 32;
/** Highest kopia file parallelism the program accepts: past it, more goroutines only wait on the same link. */
export const MAX_PARALLEL_FILES = 64;

const NODE_EXAMPLE = "node.kubernetes.io/instance-type=m6i.2xlarge:8";

/**
 * One `dataMoverNodeConcurrency` entry, `key=value[,key=value]:N`, or why it is not one. A colon never occurs in a
 * label key or value, so the last one separates the selector from the number.
 */
export function parseNodeConcurrency(entry: string): NodeConcurrency | string {
    const i = entry.lastIndexOf(":");
    if (i < 0) {
        return "is not key=value:N";
    }
    const number = entry.slice(i + 1);
    const nodeLabels: Record<string, string> = {};
    for (const pair of entry.slice(0, i).split(",")) {
        const j = pair.indexOf("=");
        const [k, v] = j < 0 ? [pair, undefined] : [pair.slice(0, j), pair.slice(j + 1)];
        if (v === undefined || !isLabelKey(k) || !isLabelValue(v)) {
            return `has ${q(pair)}, which is not a node label key=value`;
        }
        if (k in nodeLabels) {
            return `names the label ${q(k)} twice`;
        }
        nodeLabels[k] = v;
    }
    const n = Number(number);
    if (!/^\d+$/.test(number) || n < 1 || n > MAX_LOADS_PER_NODE) {
        return `has ${q(number)} loads; it must be a whole number between 1 and ${MAX_LOADS_PER_NODE}`;
    }
    return { nodeLabels, number: n };
}

/** A selector as one string, to find two entries for the same nodes. */
const selectorKey = (labels: Readonly<Record<string, string>>): string =>
    Object.keys(labels)
        .sort()
        .map((k) => `${k}=${labels[k]}`)
        .join(",");

/** Parses the data path's keys; Velero's rules for them are in velero v1.18.1 `pkg/cmd/cli/nodeagent/server.go`. */
export function parseDataPath(
    r: ConfigReader,
    volumeDataMode: VolumeDataMode | undefined,
    fileSystemBackup = false,
): DataPathSettings {
    const loadConcurrency =
        r.int("dataMoverConcurrency", 1, MAX_LOADS_PER_NODE) ?? CONFIG_KEYS.dataMoverConcurrency.default;
    const perNodeConcurrency: NodeConcurrency[] = [];
    const seen = new Set<string>();
    for (const entry of r.list("dataMoverNodeConcurrency", [NODE_EXAMPLE])) {
        const parsed = parseNodeConcurrency(entry);
        if (typeof parsed === "string") {
            // Velero would skip such a rule with a warning in the node agent's log (`getDataPathConcurrentNum`).
            r.problem(
                "dataMoverNodeConcurrency",
                `entry ${q(entry)} ${parsed}. Fix: \`${setListCmd("dataMoverNodeConcurrency", [NODE_EXAMPLE])}\`.`,
            );
        } else if (seen.has(selectorKey(parsed.nodeLabels))) {
            r.problem(
                "dataMoverNodeConcurrency",
                `entry ${q(entry)} selects the same nodes as an earlier one (Velero would take the smaller number). Fix: keep one entry per selector.`,
            );
        } else {
            seen.add(selectorKey(parsed.nodeLabels));
            perNodeConcurrency.push(parsed);
        }
    }
    if (volumeDataMode !== undefined && volumeDataMode !== "dataMover" && !fileSystemBackup) {
        // The node agent runs with the data mover or file-system backup (components/velero/values.ts
        // runsNodeAgent); its load limit governs PodVolumeBackups and PodVolumeRestores too (velero v1.18.1
        // pkg/cmd/cli/nodeagent/server.go, one data-path manager for all four kinds).
        const because = `there is no node agent with volumeDataMode ${volumeDataMode} and no file-system backup`;
        if (loadConcurrency !== CONFIG_KEYS.dataMoverConcurrency.default) {
            r.unused("dataMoverConcurrency", because);
        }
        if (perNodeConcurrency.length > 0) {
            r.warn(
                "dataMoverNodeConcurrency",
                `is ignored: ${because}. Remove it with \`${rmCmd("dataMoverNodeConcurrency")}\`.`,
            );
        }
    }
    return {
        loadConcurrency,
        perNodeConcurrency,
        parallelFilesUpload:
            r.int("backupParallelFiles", 1, MAX_PARALLEL_FILES) ?? CONFIG_KEYS.backupParallelFiles.default,
        parallelFilesDownload:
            r.int("restoreParallelFiles", 1, MAX_PARALLEL_FILES) ?? CONFIG_KEYS.restoreParallelFiles.default,
    };
}
