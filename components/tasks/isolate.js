// @ts-check
/**
 * A drill's isolation, after its restore ended and before Argo CD may sync: every namespace the restore put
 * something in gets a NetworkPolicy that lets its pods reach only the cluster itself (every pod, the API server),
 * DNS and the CIDRs `gitops-dr:drillEgressAllow` lists, and a label that the drill's admission policies select
 * (components/drill/isolation.ts). A drill syncs prod's git with prod's restored Secrets: without this, an
 * external-dns, a mailer or a queue consumer in the drill writes to production.
 *
 * Which namespaces: the restore's resource list (velero v1.18.1 `pkg/restore/request.go` `RestoredResourceList`,
 * uploaded by `restore_controller.go` `putRestoredResourceList`, read with a `RestoreResourceList` DownloadRequest):
 * `{"v1/Secret": ["shop/db(created)", ...], "v1/Namespace": ["shop(created)"]}`. It names every item, created or
 * skipped, in the namespace it went to (after any namespace mapping), so the namespaces Velero created
 * (`restore.go` `EnsureNamespaceExistsAndIsReady`) and those that existed are both found.
 *
 * NetworkPolicies are allow-lists that add up: this policy is the only egress a pod gets only while no other
 * policy selecting it allows more, which the drill's admission policy refuses for NetworkPolicies from anyone else.
 */
"use strict";

const { download } = require("./kube");
const { TaskFailure } = require("./pre-restore");

/** The NetworkPolicy the task writes in each isolated namespace. */
const ISOLATION_POLICY = "gitops-dr-drill-isolation";
/** The label of an isolated namespace; the drill's admission policies select it. */
const ISOLATED_LABEL = "gitops-dr.io/drill-isolated";

/**
 * @typedef {import("./kube").KubeApi} KubeApi
 * @typedef {import("./kube").KubeObject} KubeObject
 * @typedef {object} IsolateArgs
 * @property {string} veleroNamespace
 * @property {string} restoreName The drill's data Restore, ended and checked.
 * @property {string[]} egressAllow CIDRs the drill's pods may reach outside the cluster (validated by the program).
 * @property {string[]} keepOpen Namespaces never isolated: Velero's, Argo CD's (it must reach git), the system's.
 *
 * @typedef {object} IsolateResult
 * @property {string[]} namespaces Namespaces isolated, sorted.
 * @property {string[]} apiServer The API server's addresses the policy allows (`ip:port`).
 * @property {string[]} egressAllow The CIDRs allowed besides.
 */

/**
 * The namespaces a restore put items in, from its resource list.
 * @param {Record<string, string[]>} list
 * @returns {string[]}
 */
function restoredNamespaces(list) {
    const out = new Set();
    for (const [kind, entries] of Object.entries(list)) {
        for (const entry of entries ?? []) {
            // "<ns>/<name>(<action>)" for a namespaced item, "<name>(<action>)" for a cluster-scoped one.
            const m = /^([^/(]+)(?:\/([^(]+))?\(/.exec(entry);
            if (m === null) {
                continue;
            }
            if (m[2] !== undefined) {
                out.add(m[1]);
            } else if (kind === "v1/Namespace") {
                out.add(m[1]);
            }
        }
    }
    return [...out].sort();
}

/**
 * The API server's addresses, from the `kubernetes` Service's Endpoints in `default` (kept by the API servers
 * themselves, `pkg/controlplane/reconcilers`): what a pod reaches through `kubernetes.default.svc`. A policy selects
 * traffic after the Service's address is translated (kube-proxy DNAT), so the endpoints are what it must allow.
 * @param {KubeApi} api
 * @returns {Promise<{ ip: string, port: number }[]>}
 */
async function apiServerEndpoints(api) {
    const endpoints = await api.get("/api/v1/namespaces/default/endpoints/kubernetes");
    /** @type {{ ip: string, port: number }[]} */
    const out = [];
    for (const subset of endpoints?.subsets ?? []) {
        const port = (subset.ports ?? []).find((/** @type {KubeObject} */ p) => p.name === "https")?.port;
        for (const address of subset.addresses ?? []) {
            if (typeof address.ip === "string" && typeof port === "number") {
                out.push({ ip: address.ip, port });
            }
        }
    }
    return out;
}

/**
 * The policy of one namespace: egress to every pod of the cluster, DNS in kube-system, the API server and the
 * allowed CIDRs; nothing else. Ingress is not restricted: traffic into the drill cannot change production.
 * @param {string} namespace
 * @param {{ ip: string, port: number }[]} apiServer
 * @param {string[]} egressAllow
 * @returns {KubeObject}
 */
function isolationPolicy(namespace, apiServer, egressAllow) {
    const single = (/** @type {string} */ ip) => (ip.includes(":") ? `${ip}/128` : `${ip}/32`);
    return {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: {
            name: ISOLATION_POLICY,
            namespace,
            labels: { "app.kubernetes.io/managed-by": "gitops-dr" },
        },
        spec: {
            podSelector: {},
            policyTypes: ["Egress"],
            egress: [
                // Every pod of the cluster, in any namespace (Services resolve to them).
                { to: [{ namespaceSelector: {} }] },
                // DNS, named on its own so that it survives a narrower cluster rule.
                {
                    to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } } }],
                    ports: [
                        { protocol: "UDP", port: 53 },
                        { protocol: "TCP", port: 53 },
                    ],
                },
                ...apiServer.map((a) => ({
                    to: [{ ipBlock: { cidr: single(a.ip) } }],
                    ports: [{ protocol: "TCP", port: a.port }],
                })),
                ...(egressAllow.length === 0 ? [] : [{ to: egressAllow.map((cidr) => ({ ipBlock: { cidr } })) }]),
            ],
        },
    };
}

/**
 * @param {KubeApi} api
 * @param {IsolateArgs} args
 * @returns {Promise<IsolateResult>}
 */
async function isolate(api, args) {
    const raw = (await download(api, args.veleroNamespace, "RestoreResourceList", args.restoreName)).toString("utf8");
    const namespaces = restoredNamespaces(JSON.parse(raw || "{}")).filter((ns) => !args.keepOpen.includes(ns));
    const apiServer = await apiServerEndpoints(api);
    if (apiServer.length === 0) {
        throw new TaskFailure(
            "The kubernetes Service in namespace default has no endpoints, so the drill cannot allow its pods to reach the API server. Read: kubectl get endpoints kubernetes -n default",
        );
    }
    for (const ns of namespaces) {
        // The label first: the admission policies then hold in the namespace before its policy is in place.
        const patched = await api
            .mergePatch(`/api/v1/namespaces/${ns}`, { metadata: { labels: { [ISOLATED_LABEL]: "true" } } })
            .catch(() => undefined);
        if (patched === undefined) {
            throw new TaskFailure(
                `Namespace ${ns}, which restore ${args.restoreName} restored into, cannot be labelled ${ISOLATED_LABEL}: it does not exist or is being deleted. Read: kubectl get namespace ${ns}`,
            );
        }
        const policy = isolationPolicy(ns, apiServer, args.egressAllow);
        const path = `/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies`;
        // A retry of the same drill finds its own policy: it is brought to what this run allows.
        if ((await api.get(`${path}/${ISOLATION_POLICY}`)) === undefined) {
            await api.create(path, policy);
        } else {
            await api.mergePatch(`${path}/${ISOLATION_POLICY}`, { spec: policy.spec });
        }
    }
    return {
        namespaces,
        apiServer: apiServer.map((a) => `${a.ip}:${a.port}`),
        egressAllow: [...args.egressAllow],
    };
}

module.exports = { ISOLATED_LABEL, ISOLATION_POLICY, isolate, isolationPolicy, restoredNamespaces };
