/** The node agent's ConfigMap (velero `pkg/types/node_agent.go` `NodeAgentConfigs`). */

/**
 * The node-agent ConfigMap's single JSON document (velero docs v1.18, data-movement-restore-pvc-configuration.md
 * and data-movement-node-selection.md).
 */
export function nodeAgentConfig(nodeLabels: Readonly<Record<string, string>> = {}): Record<string, unknown> {
    return {
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
