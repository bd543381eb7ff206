/**
 * What Velero and the cluster do to restored items besides creating them: the order Velero restores resources in,
 * its SecretAction on service-account tokens, and the token controller filling or deleting them.
 */
import type { KubeObject } from "./store";

/** A Kubernetes kind's resource name, for include/exclude lists. */
export const RESOURCE_OF: Readonly<Record<string, string>> = {
    PersistentVolume: "persistentvolumes",
    PersistentVolumeClaim: "persistentvolumeclaims",
    Secret: "secrets",
    Pod: "pods",
    ServiceAccount: "serviceaccounts",
    ConfigMap: "configmaps",
};

/**
 * The order a restore creates resources in (velero v1.18.1 `pkg/cmd/server/config/config.go`
 * `defaultRestorePriorities`, the kinds the backups hold): "Service accounts go before secrets so service account
 * token secrets can be filled automatically". Kinds not listed come after, in the backup's order.
 */
const RESTORE_PRIORITIES = [
    "namespaces",
    "persistentvolumes",
    "persistentvolumeclaims",
    "serviceaccounts",
    "secrets",
    "configmaps",
    "pods",
];

/** `items` in the order Velero restores them (stable within a resource). */
export function inRestoreOrder(items: readonly KubeObject[]): KubeObject[] {
    const rank = (o: KubeObject) => {
        const i = RESTORE_PRIORITIES.indexOf(RESOURCE_OF[String(o.kind)] ?? "");
        return i === -1 ? RESTORE_PRIORITIES.length : i;
    };
    return items
        .map((o, i) => ({ o, i }))
        .sort((a, b) => rank(a.o) - rank(b.o) || a.i - b.i)
        .map(({ o }) => o);
}

const TOKEN_TYPE = "kubernetes.io/service-account-token";
const SA_NAME = "kubernetes.io/service-account.name";

/**
 * Velero's SecretAction on a service-account token Secret (velero v1.18.1 `pkg/restore/actions/secret_action.go`):
 * skipped when its name starts with `<sa>-token-` of a ServiceAccount already in the namespace (taken for one the
 * cluster makes itself); otherwise restored without `kubernetes.io/service-account.uid`, `token` and `ca.crt`, for
 * the token controller to fill. `undefined`: skipped.
 */
export function secretAction(item: KubeObject, cluster: readonly KubeObject[]): KubeObject | undefined {
    if (item.kind !== "Secret" || item.type !== TOKEN_TYPE) {
        return item;
    }
    const ns = item.metadata.namespace;
    const accounts = cluster.filter((o) => o.kind === "ServiceAccount" && o.metadata.namespace === ns);
    if (accounts.some((sa) => String(item.metadata.name).startsWith(`${String(sa.metadata.name)}-token-`))) {
        return undefined;
    }
    const annotations = { ...(item.metadata.annotations ?? {}) };
    delete annotations["kubernetes.io/service-account.uid"];
    const data = { ...(item.data ?? {}) };
    delete data.token;
    delete data["ca.crt"];
    return { ...item, metadata: { ...item.metadata, annotations }, data };
}

/**
 * The token controller on a token Secret as it is created (kubernetes `pkg/controller/serviceaccount/
 * tokens_controller.go` `syncSecret`): deleted when its ServiceAccount does not exist; else given a new token
 * (the ServiceAccount's new UID: the old token never validates again). `undefined`: deleted.
 */
export function tokenController(secret: KubeObject, cluster: readonly KubeObject[]): KubeObject | undefined {
    if (secret.kind !== "Secret" || secret.type !== TOKEN_TYPE) {
        return secret;
    }
    const account = cluster.find(
        (o) =>
            o.kind === "ServiceAccount" &&
            o.metadata.namespace === secret.metadata.namespace &&
            o.metadata.name === secret.metadata.annotations?.[SA_NAME],
    );
    if (account === undefined) {
        return undefined;
    }
    return {
        ...secret,
        metadata: {
            ...secret.metadata,
            annotations: { ...secret.metadata.annotations, "kubernetes.io/service-account.uid": "uid-after-restore" },
        },
        data: { ...(secret.data ?? {}), token: "dG9rZW4tYWZ0ZXItcmVzdG9yZQ==", "ca.crt": "Y2E=" },
    };
}
