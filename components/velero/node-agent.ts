/** The node agent's ConfigMap (velero `pkg/types/node_agent.go` `NodeAgentConfigs`). */
import type { DataPathSettings } from "../config";

/**
 * What Velero v1.18.1 does when nothing is set: one load per node (`pkg/cmd/cli/nodeagent/server.go`,
 * `defaultDataPathConcurrentNum`), and kopia reads or writes as many files at once as the node has CPUs
 * (`pkg/uploader/kopia/snapshot.go`: `getDefaultPolicy` MaxParallelFileReads and `Restore`'s
 * `restoreConcurrency`, both `runtime.NumCPU()`). `undefined`: the node's CPU count.
 */
export const VELERO_DATA_PATH_DEFAULTS = {
    loadConcurrency: 1,
    parallelFilesUpload: undefined,
    parallelFilesDownload: undefined,
} as const;

/** The node-agent ConfigMap's JSON document, as `NodeAgentConfigs` reads it. */
export interface NodeAgentConfig {
    /** `LoadConcurrency`: `globalConfig`, `perNodeConfig` (`RuledConfigs`: a label selector and a number). */
    readonly loadConcurrency: {
        readonly globalConfig: number;
        readonly perNodeConfig?: readonly {
            readonly nodeSelector: { readonly matchLabels: Readonly<Record<string, string>> };
            readonly number: number;
        }[];
    };
    /** `[]*kube.LoadAffinity`. */
    readonly loadAffinity?: readonly { readonly nodeSelector: { readonly matchLabels: Record<string, string> } }[];
    /** `RestorePVC`. */
    readonly restorePVC: { readonly ignoreDelayBinding: boolean };
}

/**
 * The node-agent ConfigMap's single JSON document (velero docs v1.18, node-agent-concurrency.md,
 * data-movement-restore-pvc-configuration.md and data-movement-node-selection.md).
 */
export function nodeAgentConfig(
    nodeLabels: Readonly<Record<string, string>> = {},
    dataPath: Pick<DataPathSettings, "loadConcurrency" | "perNodeConcurrency"> = {
        loadConcurrency: VELERO_DATA_PATH_DEFAULTS.loadConcurrency,
        perNodeConcurrency: [],
    },
): NodeAgentConfig {
    return {
        // Read once at the node agent's start (docs: "node-agent server needs to be restarted"): the hash label
        // values.ts puts on the node agent's pods rolls the DaemonSet when this changes. A node matched by several
        // rules takes the smallest number;
        // a rule with number <= 0 is skipped (`getDataPathConcurrentNum`): config/data-path.ts refuses both.
        loadConcurrency: {
            globalConfig: dataPath.loadConcurrency,
            ...(dataPath.perNodeConcurrency.length > 0
                ? {
                      perNodeConfig: dataPath.perNodeConcurrency.map((rule) => ({
                          nodeSelector: { matchLabels: { ...rule.nodeLabels } },
                          number: rule.number,
                      })),
                  }
                : {}),
        },
        // Restored claims of a WaitForFirstConsumer class would wait for a pod, and pods only come once Argo CD
        // syncs after the restore: bind them at restore time instead. Each restored volume is then created in
        // the zone of the node that runs its data-mover pod (the docs' Note), hence the optional loadAffinity.
        restorePVC: { ignoreDelayBinding: true },
        ...(Object.keys(nodeLabels).length > 0
            ? { loadAffinity: [{ nodeSelector: { matchLabels: { ...nodeLabels } } }] }
            : {}),
    };
}

/** Chart key of the node-agent ConfigMap in `configMaps`; the chart names it `<fullname>-<key>`. */
export const NODE_AGENT_CONFIGMAP_KEY = "node-agent-config";
