/**
 * Pods restored as vessels for file-system backup data (issue #19): the resource-modifier rules applied, as Velero
 * applies them, to pods as Velero's restore item actions leave them.
 */
import * as assert from "node:assert/strict";
import * as path from "node:path";

import { parse as parseYaml } from "yaml";

import { VESSEL_CONTAINER_NAME, VesselPlan, modifiersDocument, vesselRules } from "../components/restore";
import { VESSEL_LABEL } from "../components/tasks";
import { ProgramError, runProgram } from "../engine";
import { ClusterScenario, KubeObject, SimulatedBackup, defaultBackup, defaultTargetObjects } from "../engine/cluster";
import {
    RESTORE_WAIT,
    SIMULATED_DATA_ANNOTATION,
    applyModifiers,
    modifierProblem,
    podRestoreItemActions,
    unschedulable,
} from "../engine/cluster/velero";
import { RECOVER_CONFIG, STACK_REFERENCES, STACK_SECRETS } from "./fixtures";

// The models are ESM with an import-only exports map, typed for ESM: required by path, as tests/argocd.test.ts does.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Pod } = require(path.resolve(__dirname, "..", "node_modules", "kubernetes-models", "v1", "Pod.js")) as {
    Pod: new (data: unknown) => { validate(): void };
};

const IMAGE = "docker.io/velero/velero:v1.18.1";
const UID = "0f4c6a52-restore-uid";

const claimVolume = (name: string, claim: string) => ({ name, persistentVolumeClaim: { claimName: claim } });

/** A StatefulSet's pod: its data claim, a ConfigMap from git, the service-account token, a sidecar. */
const statefulPod: KubeObject = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
        name: "postgres-0",
        namespace: "shop",
        labels: {
            app: "postgres",
            "statefulset.kubernetes.io/pod-name": "postgres-0",
            "app.kubernetes.io/instance": "shop",
        },
        annotations: { "pre.hook.backup.velero.io/command": '["/bin/sh","-c","pg_dump"]' },
    },
    spec: {
        serviceAccountName: "postgres",
        priorityClassName: "databases",
        // As the API server defaulted it from the class, and a `kubectl debug` left behind.
        preemptionPolicy: "Never",
        ephemeralContainers: [{ name: "debugger-x1", image: "busybox" }],
        nodeName: "node-a",
        priority: 1000,
        hostname: "postgres-0",
        subdomain: "postgres",
        containers: [
            {
                name: "postgres",
                image: "postgres:17",
                securityContext: { runAsUser: 999, allowPrivilegeEscalation: false },
                volumeMounts: [
                    { name: "data", mountPath: "/var/lib/postgresql/data" },
                    { name: "config", mountPath: "/etc/postgresql" },
                    { name: "postgres-token-abcde", mountPath: "/var/run/secrets/kubernetes.io/serviceaccount" },
                ],
            },
            { name: "exporter", image: "postgres-exporter:0.17", volumeMounts: [{ name: "config", mountPath: "/c" }] },
        ],
        volumes: [
            claimVolume("data", "data-postgres-0"),
            { name: "config", configMap: { name: "postgres-config" } },
            { name: "postgres-token-abcde", secret: { secretName: "postgres-token-abcde" } },
        ],
    },
};

/** A Deployment's pod with init containers of its own (one of them a migration) and two claims. */
const deploymentPod: KubeObject = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
        name: "nextcloud-7d9f8-abcde",
        namespace: "cloud",
        labels: { app: "nextcloud", "pod-template-hash": "7d9f8" },
        ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "nextcloud-7d9f8", uid: "x" }],
    },
    spec: {
        serviceAccountName: "nextcloud",
        initContainers: [
            { name: "chown", image: "busybox", volumeMounts: [{ name: "html", mountPath: "/html" }] },
            { name: "migrate", image: "nextcloud:31", command: ["occ", "upgrade"] },
        ],
        containers: [{ name: "nextcloud", image: "nextcloud:31", volumeMounts: [{ name: "html", mountPath: "/v" }] }],
        volumes: [
            claimVolume("html", "nextcloud-html"),
            claimVolume("files", "nextcloud-files"),
            { name: "tmp", emptyDir: {} },
        ],
    },
};

/** A pod of the same backup without file-system backup data (its volume was snapshotted, or it has none). */
const statelessPod: KubeObject = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "web-5c6b7-xyz12", namespace: "shop", labels: { app: "web" } },
    spec: {
        initContainers: [{ name: "wait", image: "busybox" }],
        containers: [{ name: "web", image: "nginx", volumeMounts: [{ name: "conf", mountPath: "/etc/nginx" }] }],
        volumes: [{ name: "conf", configMap: { name: "web" } }],
    },
};

const plan: VesselPlan = {
    withData: [
        {
            namespace: "shop",
            name: "postgres-0",
            initContainers: [],
            volumes: [claimVolume("data", "data-postgres-0")],
            keepsNodeConstraints: false,
        },
        {
            namespace: "cloud",
            name: "nextcloud-7d9f8-abcde",
            initContainers: ["chown", "migrate"],
            volumes: [claimVolume("html", "nextcloud-html"), claimVolume("files", "nextcloud-files")],
            keepsNodeConstraints: true,
        },
    ],
    withoutData: [{ namespace: "shop", name: "web-5c6b7-xyz12" }],
};

/** The rules as Velero reads them back from the ConfigMap's document. */
function rulesFromDocument(p: VesselPlan): KubeObject[] {
    const document = modifiersDocument(vesselRules(p, IMAGE));
    assert.equal(
        modifierProblem({ data: { "modifiers.yaml": document } }, "velero/m"),
        undefined,
        "Velero accepts the document",
    );
    return (parseYaml(document) as { resourceModifierRules: KubeObject[] }).resourceModifierRules;
}

/** What Velero creates for a backed-up pod: item actions, then the modifiers, with the errors they add. */
function restored(pod: KubeObject, dataVolumes: readonly string[], p: VesselPlan = plan) {
    const errors: string[] = [];
    const afterActions = podRestoreItemActions(pod, dataVolumes, UID, IMAGE);
    return { pod: applyModifiers(afterActions, "pods", rulesFromDocument(p), errors), errors };
}

type Container = { name: string; image?: string; volumeMounts?: { name: string }[] } & Record<string, unknown>;
type PodSpec = { containers: Container[]; initContainers?: Container[]; volumes?: { name: string }[] } & Record<
    string,
    unknown
>;

/** What the API server's validation would refuse (core/v1 pod validation, the parts a modifier can break). */
function podProblems(pod: KubeObject): string[] {
    const spec = pod.spec as PodSpec;
    const problems: string[] = [];
    const volumes = new Set((spec.volumes ?? []).map((v) => v.name));
    if ((spec.containers ?? []).length === 0) {
        problems.push("spec.containers: Required value");
    }
    const all = [...(spec.initContainers ?? []), ...spec.containers];
    const names = all.map((c) => c.name);
    if (new Set(names).size !== names.length) {
        problems.push("duplicate container names");
    }
    for (const c of all) {
        if (typeof c.image !== "string" || c.image === "") {
            problems.push(`${c.name}: image Required value`);
        }
        for (const m of c.volumeMounts ?? []) {
            if (!volumes.has(m.name)) {
                problems.push(`${c.name}: volumeMounts ${m.name}: Not found`);
            }
        }
    }
    if ((spec.volumes ?? []).length !== volumes.size) {
        problems.push("duplicate volume names");
    }
    return problems;
}

function assertVessel(pod: KubeObject, dataVolumes: readonly string[]): void {
    const spec = pod.spec as PodSpec;
    assert.deepEqual(podProblems(pod), [], "a valid Pod");
    assert.doesNotThrow(() => new Pod(pod).validate(), "valid for the Pod schema (kubernetes-models)");
    assert.deepEqual(
        (spec.initContainers ?? []).map((c) => c.name),
        dataVolumes.length > 0 ? [RESTORE_WAIT] : [],
        "restore-wait first and alone: no init container of the app runs",
    );
    assert.deepEqual(
        spec.containers.map((c) => [c.name, c.image]),
        [[VESSEL_CONTAINER_NAME, IMAGE]],
        "no container of the app",
    );
    assert.deepEqual(pod.metadata.labels, { [VESSEL_LABEL]: "true" }, "no label a controller or Argo CD selects by");
    assert.deepEqual(pod.metadata.annotations, {}, "no backup hook or tracking annotation");
    assert.equal(spec.serviceAccountName, "default");
    assert.equal(spec.automountServiceAccountToken, false);
    assert.equal(spec.priorityClassName, "");
    assert.equal(spec.restartPolicy, "Never");
    const admitted = pod.spec as { preemptionPolicy?: unknown; ephemeralContainers?: unknown };
    assert.equal(admitted.preemptionPolicy, undefined, "the admission plugin computes it from the default class");
    assert.equal(admitted.ephemeralContainers, undefined, "ephemeral containers cannot be set on create");
    assert.deepEqual((spec.volumes ?? []).map((v) => v.name).sort(), [...dataVolumes].sort());
}

describe("vessels: restored pods that only carry file-system backup data", () => {
    it("a StatefulSet's pod: restore-wait fills its claim, nothing of the app runs", () => {
        const { pod, errors } = restored(statefulPod, ["data"]);
        assert.deepEqual(errors, []);
        assertVessel(pod, ["data"]);
        const wait = (pod.spec as PodSpec).initContainers![0];
        assert.deepEqual(wait.volumeMounts, [{ name: "data", mountPath: "/restores/data" }]);
        // The name stays: the StatefulSet's own pod postgres-0 replaces the vessel once it is deleted.
        assert.equal(pod.metadata.name, "postgres-0");
    });

    it("a Deployment's pod with init containers of its own: only restore-wait is left, before both claims", () => {
        const { pod, errors } = restored(deploymentPod, ["html", "files"]);
        assert.deepEqual(errors, []);
        assertVessel(pod, ["html", "files"]);
    });

    it("a pod without file-system backup data: no init container, no volume", () => {
        const { pod, errors } = restored(statelessPod, []);
        assert.deepEqual(errors, []);
        assertVessel(pod, []);
    });

    it("a pod of the backup the plan does not name still loses its containers and labels", () => {
        const stranger = { ...statelessPod, metadata: { ...statelessPod.metadata, name: "other-1" } };
        const { pod } = restored(stranger, []);
        const spec = pod.spec as PodSpec;
        assert.deepEqual(
            spec.containers.map((c) => c.name),
            [VESSEL_CONTAINER_NAME],
        );
        assert.deepEqual(pod.metadata.labels, { [VESSEL_LABEL]: "true" });
    });

    it("a pod with data that Velero gave no restore-wait: still no app init container runs", () => {
        const { pod, errors } = restored(deploymentPod, []);
        assert.deepEqual(errors, []);
        assert.deepEqual(podProblems(pod), []);
        assert.deepEqual((pod.spec as PodSpec).initContainers, [], "no migration runs outside Argo CD");
        assert.deepEqual(
            (pod.spec as PodSpec).containers.map((c) => c.name),
            [VESSEL_CONTAINER_NAME],
        );
    });

    it("no pods to restore: no rules", () => {
        assert.deepEqual(vesselRules({ withData: [], withoutData: [] }, IMAGE), []);
    });

    it("rule order: the pods' own rules, then the rule for every pod", () => {
        const rules = vesselRules(plan, IMAGE);
        assert.deepEqual(
            rules.map((r) => [r.conditions.namespaces ?? ["*"], r.conditions.resourceNameRegex ?? "*"]),
            [
                [["shop"], "^(postgres-0)$"],
                [["cloud"], "^(nextcloud-7d9f8-abcde)$"],
                [["cloud"], "^(nextcloud-7d9f8-abcde)$"],
                [["cloud"], "^(nextcloud-7d9f8-abcde)$"],
                [["shop"], "^(web-5c6b7-xyz12)$"],
                // Node constraints: the pod without data, and postgres-0, whose constraints no node meets.
                [["shop"], "^(web-5c6b7-xyz12|postgres-0)$"],
                [["*"], "*"],
                [["*"], "*"],
                [["*"], "*"],
            ],
        );
    });
});

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the task is CommonJS, as the Job runs it
const { fitsSomeNode } = require("../components/tasks/pre-restore.js") as {
    fitsSomeNode: (pod: KubeObject, nodes: KubeObject[]) => boolean;
};

const node = (name: string, labels: Record<string, string> = {}): KubeObject => ({
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", ...labels } },
});

const hostnameTerm = (host: string) => ({
    matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [host] }],
});

/**
 * A StatefulSet's pod as the lost cluster ran it: pinned to its old host three ways, spread and kept apart from its
 * peers, on a scheduler, runtime class and priority class from git, on the host network, behind a scheduling gate.
 */
const pinnedPod: KubeObject = {
    ...statefulPod,
    metadata: { ...statefulPod.metadata, name: "postgres-1" },
    spec: {
        ...statefulPod.spec,
        nodeName: "old-box",
        nodeSelector: { "kubernetes.io/hostname": "old-box", "kubernetes.io/os": "linux" },
        affinity: {
            nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [hostnameTerm("old-box")] },
                preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, preference: hostnameTerm("old-box") }],
            },
            podAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: [
                    { labelSelector: { matchLabels: { app: "pgbouncer" } }, topologyKey: "kubernetes.io/hostname" },
                ],
            },
            podAntiAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: [
                    { labelSelector: { matchLabels: { app: "postgres" } }, topologyKey: "kubernetes.io/hostname" },
                ],
            },
        },
        schedulerName: "stork",
        priorityClassName: "databases",
        runtimeClassName: "gvisor",
        overhead: { cpu: "250m", memory: "120Mi" },
        topologySpreadConstraints: [
            {
                maxSkew: 1,
                topologyKey: "topology.kubernetes.io/zone",
                whenUnsatisfiable: "DoNotSchedule",
                labelSelector: { matchLabels: { app: "postgres" } },
            },
        ],
        schedulingGates: [{ name: "example.com/storage-ready" }],
        hostNetwork: true,
        securityContext: { fsGroup: 999, sysctls: [{ name: "kernel.shm_rmid_forced", value: "1" }] },
        tolerations: [{ key: "dedicated", operator: "Equal", value: "db", effect: "NoSchedule" }],
    },
};

const pinnedPlan = (keepsNodeConstraints: boolean): VesselPlan => ({
    withData: [
        {
            namespace: "shop",
            name: "postgres-1",
            initContainers: [],
            volumes: [claimVolume("data", "data-postgres-1")],
            keepsNodeConstraints,
        },
    ],
    withoutData: [],
});

describe("vessels schedule on a new cluster", () => {
    const newBox = node("new-box");

    it("as Velero leaves it, the old cluster's pod would never be scheduled there", () => {
        const acted = podRestoreItemActions(pinnedPod, ["data"], UID, IMAGE);
        assert.equal((acted.spec as KubeObject).nodeName, "", "PodAction clears the node name (pod_action.go)");
        assert.equal((acted.spec as KubeObject).schedulerName, "stork", "but nothing else");
        assert.ok(unschedulable(acted, [newBox]) !== undefined);
        assert.equal(fitsSomeNode(acted, [newBox]), false);
    });

    it("node constraints no node meets: the vessel keeps only its tolerations, and lands", () => {
        const { pod, errors } = restored(pinnedPod, ["data"], pinnedPlan(false));
        assert.deepEqual(errors, [], "no rule failed");
        assertVessel(pod, ["data"]);
        const spec = pod.spec as KubeObject;
        for (const field of [
            "nodeName",
            "nodeSelector",
            "schedulerName",
            "runtimeClassName",
            "overhead",
            "topologySpreadConstraints",
            "schedulingGates",
            "hostNetwork",
            "priority",
        ]) {
            assert.ok(
                spec[field] === undefined || spec[field] === "",
                `${field} removed: ${JSON.stringify(spec[field])}`,
            );
        }
        assert.deepEqual(spec.affinity ?? {}, {}, "no node, pod or anti-affinity");
        assert.deepEqual(spec.securityContext, { fsGroup: 999 }, "the volume ownership stays, sysctls go");
        assert.deepEqual(spec.tolerations, pinnedPod.spec.tolerations, "tolerations only widen where it may go");
        assert.equal(unschedulable(pod, [newBox]), undefined);
    });

    it("node constraints a node meets: kept, so the claim is provisioned where the pod from git may run", () => {
        const sameName = node("old-box");
        assert.equal(fitsSomeNode(pinnedPod, [newBox, sameName]), true);
        const { pod, errors } = restored(pinnedPod, ["data"], pinnedPlan(true));
        assert.deepEqual(errors, []);
        assertVessel(pod, ["data"]);
        const spec = pod.spec as KubeObject;
        assert.deepEqual(spec.nodeSelector, pinnedPod.spec.nodeSelector);
        assert.deepEqual(spec.affinity, { nodeAffinity: pinnedPod.spec.affinity.nodeAffinity });
        assert.equal(spec.schedulerName, undefined);
        assert.equal(unschedulable(pod, [newBox, sameName]), undefined);
        assert.match(String(unschedulable(pod, [newBox])), /no node meets/, "and they do decide the node");
    });

    it("a pod with no scheduling fields at all: the rules add nothing a Pod may not hold, and fail nothing", () => {
        const bare: KubeObject = {
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name: "bare", namespace: "shop" },
            spec: { containers: [{ name: "c", image: "busybox" }], volumes: [claimVolume("data", "data-bare")] },
        };
        const barePlan: VesselPlan = {
            withData: [
                {
                    namespace: "shop",
                    name: "bare",
                    initContainers: [],
                    volumes: [claimVolume("data", "data-bare")],
                    keepsNodeConstraints: false,
                },
            ],
            withoutData: [],
        };
        const { pod, errors } = restored(bare, ["data"], barePlan);
        assert.deepEqual(errors, []);
        assertVessel(pod, ["data"]);
    });

    it("node selector terms as the scheduler reads them", () => {
        const labelled = node("n1", { disk: "ssd", cpus: "8" });
        const withTerms = (...terms: KubeObject[]): KubeObject => ({
            spec: {
                affinity: {
                    nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } },
                },
            },
        });
        const expr = (key: string, operator: string, values?: string[]) => ({
            matchExpressions: [{ key, operator, values }],
        });
        assert.equal(fitsSomeNode(withTerms(expr("disk", "In", ["ssd", "nvme"])), [labelled]), true);
        assert.equal(fitsSomeNode(withTerms(expr("disk", "NotIn", ["ssd"])), [labelled]), false);
        assert.equal(fitsSomeNode(withTerms(expr("gpu", "NotIn", ["a100"])), [labelled]), true);
        assert.equal(fitsSomeNode(withTerms(expr("disk", "Exists")), [labelled]), true);
        assert.equal(fitsSomeNode(withTerms(expr("disk", "DoesNotExist")), [labelled]), false);
        assert.equal(fitsSomeNode(withTerms(expr("cpus", "Gt", ["4"])), [labelled]), true);
        assert.equal(fitsSomeNode(withTerms(expr("cpus", "Lt", ["4"])), [labelled]), false);
        assert.equal(fitsSomeNode(withTerms({}), [labelled]), false, "an empty term matches no node");
        assert.equal(
            fitsSomeNode(withTerms(expr("disk", "In", ["hdd"]), expr("disk", "In", ["ssd"])), [labelled]),
            true,
            "terms are ORed",
        );
        assert.equal(
            fitsSomeNode(withTerms({ matchFields: [{ key: "metadata.name", operator: "In", values: ["n1"] }] }), [
                labelled,
            ]),
            true,
        );
        assert.equal(fitsSomeNode({ spec: { nodeSelector: { disk: "ssd", zone: "a" } } }, [labelled]), false);
        assert.equal(fitsSomeNode({ spec: {} }, []), false, "no node: nothing fits");
    });
});

/** A homelab source: k3s local-path claims backed up through their pods, a claim the data mover moved, a web pod. */
function homelabBackup(pod: KubeObject = statefulPod): SimulatedBackup {
    const base = defaultBackup("prod-eu-1-daily", "2026-11-25T02:00:00Z");
    const localVolume = (name: string, claim: string): KubeObject => ({
        apiVersion: "v1",
        kind: "PersistentVolume",
        metadata: { name },
        spec: {
            capacity: { storage: "5Gi" },
            accessModes: ["ReadWriteOnce"],
            persistentVolumeReclaimPolicy: "Delete",
            storageClassName: "local-path",
            claimRef: { namespace: "shop", name: claim },
            local: { path: `/var/lib/rancher/k3s/storage/${name}` },
            nodeAffinity: {
                required: {
                    nodeSelectorTerms: [
                        { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: ["homelab"] }] },
                    ],
                },
            },
        },
    });
    const localClaim = (name: string, volume: string): KubeObject => ({
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name, namespace: "shop", labels: { app: "postgres" } },
        spec: {
            accessModes: ["ReadWriteOnce"],
            resources: { requests: { storage: "5Gi" } },
            storageClassName: "local-path",
            volumeName: volume,
        },
        status: { phase: "Bound" },
    });
    const contents = [
        ...base.contents,
        localVolume("pvc-pg", "data-postgres-0"),
        localClaim("data-postgres-0", "pvc-pg"),
        { ...pod, status: { phase: "Running" } },
        { ...statelessPod, status: { phase: "Running" } },
    ];
    return {
        ...base,
        contents,
        volumeInfos: [
            ...base.volumeInfos,
            {
                pvcName: "data-postgres-0",
                pvcNamespace: "shop",
                pvName: "pvc-pg",
                backupMethod: "PodVolumeBackup",
                snapshotDataMoved: false,
                skipped: false,
                result: "succeeded",
                pvbInfo: { podName: "postgres-0", podNamespace: "shop", volumeName: "data", uploaderType: "kopia" },
            },
        ],
    };
}

const localPath: KubeObject = {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name: "local-path" },
    provisioner: "rancher.io/local-path",
};

const homelab = (restore: ClusterScenario["restore"] = {}): ClusterScenario => ({
    backups: [homelabBackup()],
    objects: [...defaultTargetObjects(), localPath],
    restore,
});

const restoreRun = (stack: "recover" | "drill", cluster: ClusterScenario, config: Record<string, unknown> = {}) =>
    runProgram({
        stack,
        config: { ...(stack === "recover" ? RECOVER_CONFIG : {}), ...config },
        secrets: STACK_SECRETS,
        stackReferences: STACK_REFERENCES,
        cluster,
        startedAt: Date.parse("2026-11-25T10:00:00Z"),
    });

describe("vessels on the simulated cluster: a claim backed up through its pod gets its data back", () => {
    for (const stack of ["recover", "drill"] as const) {
        it(`${stack}: the Restore takes the pods as vessels, fills the claim, and the vessels are gone before the root Application`, async () => {
            const run = await restoreRun(stack, homelab());
            const restore = run.restore();
            assert.ok(((restore.inputs.spec as KubeObject).includedResources as string[]).includes("pods"));
            const store = run.cluster!.store;
            const claim = store
                .all()
                .find((o) => o.kind === "PersistentVolumeClaim" && o.metadata.name === "data-postgres-0")!;
            assert.equal(claim.status.phase, "Bound");
            assert.equal(
                claim.metadata.annotations?.[SIMULATED_DATA_ANNOTATION],
                (restore.outputs as KubeObject).metadata.name,
            );
            const pvrs = store.all().filter((o) => o.kind === "PodVolumeRestore");
            assert.deepEqual(
                pvrs.map((p): unknown[] => [p.spec.pod.name, p.spec.volume, p.status.phase]),
                [["postgres-0", "data", "Completed"]],
            );
            assert.deepEqual(
                store.all().filter((o) => o.kind === "Pod"),
                [],
                "every vessel deleted, so the StatefulSet creates postgres-0 itself",
            );
            assert.deepEqual((run.outputs.restore as { filledClaims: string[] }).filledClaims, [
                "shop/data-postgres-0",
            ]);
            const report = run
                .ofType("kubernetes:batch/v1:Job")
                .find((j) => (j.inputs.metadata as { name: string }).name === "gitops-dr-post-restore")!;
            const root = run.one("kubernetes:argoproj.io/v1alpha1:Application", `gitops-dr-${stack}-argocd-root-app`);
            assert.ok(run.dependsOn(report, restore), "the vessels are removed after the Restore ended");
            assert.ok(run.dependsOn(root, report), "and before the root Application may sync");
        });
    }

    it("a new machine: the pod pinned to the lost host, on its own scheduler, still fills its claim", async () => {
        const pinned = { ...pinnedPod, metadata: statefulPod.metadata };
        const scenario = {
            ...homelab(),
            backups: [homelabBackup(pinned)],
            objects: [...homelab().objects!, node("new-box")],
        };
        const run = await restoreRun("recover", scenario);
        const claim = run
            .cluster!.store.all()
            .find((o) => o.kind === "PersistentVolumeClaim" && o.metadata.name === "data-postgres-0")!;
        assert.ok(claim.metadata.annotations?.[SIMULATED_DATA_ANNOTATION] !== undefined, "the data arrived");
        const modifiers = run
            .ofType("kubernetes:core/v1:ConfigMap")
            .find((c) => (c.inputs.metadata as { name: string }).name === "gitops-dr-restore-modifiers")!;
        const rules = (
            parseYaml((modifiers.outputs as KubeObject).data["modifiers.yaml"] as string) as {
                resourceModifierRules: KubeObject[];
            }
        ).resourceModifierRules;
        assert.ok(
            rules.some(
                (r) =>
                    r.conditions.resourceNameRegex === "^(web-5c6b7-xyz12|postgres-0)$" &&
                    String(r.mergePatches?.[0]?.patchData).includes('"nodeSelector":null'),
            ),
            "no node of the new cluster is old-box: the task let the vessel go anywhere",
        );
    });

    for (const minutes of [undefined, 600]) {
        it(`a vessel no node takes: Velero gives up at the pod volume timeout, a margin before Pulumi (restoreTimeoutMinutes ${minutes ?? "default"})`, async () => {
            const scenario = homelab({ unschedulablePods: ["shop/postgres-0"] });
            const config = minutes === undefined ? {} : { restoreTimeoutMinutes: minutes };
            const error = await restoreRun("recover", scenario, config).then(
                () => assert.fail("the run went on"),
                (e: unknown) => e as ProgramError,
            );
            assert.match(error.message, /PartiallyFailed/);
            assert.deepEqual(
                error.resources.filter((r) => r.type === "kubernetes:argoproj.io/v1alpha1:Application"),
                [],
            );
            const restore = error.resources.find(
                (r) =>
                    r.type === "kubernetes:velero.io/v1:Restore" &&
                    (r.inputs.metadata as KubeObject).labels === undefined,
            )!;
            const wait = Number(/^(\d+)m$/.exec(String(restore.customTimeouts?.create))![1]);
            assert.equal(wait, minutes ?? 300, "Pulumi waits restoreTimeoutMinutes");
            const annotation = (restore.inputs.metadata as KubeObject).annotations["velero.io/pod-volume-timeout"];
            assert.equal(annotation, `${wait - 60}m`);
            const status = (restore.outputs as KubeObject).status as KubeObject;
            const took =
                (Date.parse(String(status.completionTimestamp)) - Date.parse(String(status.startTimestamp))) / 60000;
            assert.equal(took, wait - 60, "Velero's own wait ended the restore, not the server's 4h default");
            assert.ok(took < wait, "before Pulumi stopped waiting: the phase and its errors are reported");
        });
    }

    it("a backup without file-system backup data: the Restore takes no pods", async () => {
        const run = await restoreRun("recover", {});
        assert.ok(!((run.restore().inputs.spec as KubeObject).includedResources as string[]).includes("pods"));
    });

    it("a PodVolumeRestore that fails stops the recovery, naming the claim, before Argo CD syncs", async () => {
        const error = await restoreRun("recover", homelab({ failedPodVolumes: ["shop/postgres-0/data"] })).then(
            () => assert.fail("the run went on"),
            (e: unknown) => e as ProgramError,
        );
        assert.match(error.message, /PartiallyFailed/);
        assert.deepEqual(
            error.resources.filter((r) => r.type === "kubernetes:argoproj.io/v1alpha1:Application"),
            [],
        );
    });

    it("a claim whose data did not arrive in a restore Velero calls Completed: the post-restore task names it", async () => {
        const scenario = homelab({ phase: "Completed", failedPodVolumes: ["shop/postgres-0/data"] });
        const error = await restoreRun("drill", scenario).then(
            () => assert.fail("the run went on"),
            (e: unknown) => e as ProgramError,
        );
        assert.match(
            error.message,
            /left 1 claim without the file-system backup data the backup holds: shop\/data-postgres-0 \(pod postgres-0, volume data: PodVolumeRestore \S+ Failed\)/,
        );
        assert.deepEqual(
            error.resources.filter((r) => r.type === "kubernetes:argoproj.io/v1alpha1:Application"),
            [],
        );
    });
    it("a claim that already exists where a vessel would fill it stops the run before any Restore: live data is never overwritten", async () => {
        const live: KubeObject = {
            apiVersion: "v1",
            kind: "PersistentVolumeClaim",
            metadata: { name: "data-postgres-0", namespace: "shop" },
            spec: { storageClassName: "local-path", volumeName: "pvc-live" },
            status: { phase: "Bound" },
        };
        const scenario = { ...homelab(), objects: [...(homelab().objects ?? []), live] };
        const error = await restoreRun("recover", scenario).then(
            () => assert.fail("the run went on"),
            (e: unknown) => e as ProgramError,
        );
        assert.match(
            error.message,
            /would write file-system backup data into claims that already exist: shop\/data-postgres-0 \(pod shop\/postgres-0\)/,
        );
        assert.deepEqual(
            error.resources.filter(
                (r) =>
                    r.type === "kubernetes:velero.io/v1:Restore" &&
                    r.inputs.spec !== undefined &&
                    (r.inputs.metadata as { labels?: Record<string, string> }).labels === undefined,
            ),
            [],
            "no data Restore was created",
        );
    });
});

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the task is CommonJS, as the Job runs it
const preRestoreTask = require("../components/tasks/pre-restore.js") as {
    volumesWithData: (pod: KubeObject, namespace: string, pvbs: KubeObject[]) => Set<string>;
    labelValue: (name: string) => string;
};

const pvb = (pod: string, volume: string, status: KubeObject, namespace = "shop", backup = "b"): KubeObject => ({
    apiVersion: "velero.io/v1",
    kind: "PodVolumeBackup",
    metadata: { name: `${backup}-${pod}-${volume}`, namespace: "velero", labels: { "velero.io/backup-name": backup } },
    spec: { pod: { kind: "Pod", namespace, name: pod }, volume },
    status,
});

describe("which volumes get file-system backup data: the PodVolumeBackups, as Velero reads them", () => {
    const { volumesWithData, labelValue } = preRestoreTask;
    const withVolumes = (volumes: KubeObject[], annotations: Record<string, string> = {}): KubeObject => ({
        ...statefulPod,
        metadata: { ...statefulPod.metadata, annotations },
        spec: { ...statefulPod.spec, volumes },
    });
    const pod = withVolumes([
        claimVolume("data", "data-postgres-0"),
        claimVolume("empty", "empty-postgres-0"),
        claimVolume("wal", "wal-postgres-0"),
        { name: "info", downwardAPI: { items: [] } },
        { name: "bundle", projected: { sources: [] } },
    ]);
    const sorted = (s: Set<string>) => [...s].sort();

    it("a snapshot ID decides, not the phase; an empty volume has none", () => {
        const pvbs = [
            pvb("postgres-0", "data", { phase: "Completed", snapshotID: "k1" }),
            pvb("postgres-0", "empty", { phase: "Completed", snapshotID: "" }),
            pvb("postgres-0", "wal", { phase: "Failed", message: "read error" }),
        ];
        assert.deepEqual(sorted(volumesWithData(pod, "shop", pvbs)), ["data"]);
        const partial = [...pvbs, pvb("postgres-0", "wal", { phase: "Failed", snapshotID: "k2" })];
        assert.deepEqual(sorted(volumesWithData(pod, "shop", partial)), ["data", "wal"], "getVolumeBackupInfoForPod");
    });

    it("only this pod's, in its namespace in the backup, and never a projected or downward API volume", () => {
        const pvbs = [
            pvb("postgres-0", "data", { snapshotID: "k1" }, "other"),
            pvb("postgres-1", "wal", { snapshotID: "k2" }),
            pvb("postgres-0", "info", { snapshotID: "k3" }),
            pvb("postgres-0", "bundle", { snapshotID: "k4" }),
        ];
        assert.deepEqual(sorted(volumesWithData(pod, "shop", pvbs)), []);
        assert.deepEqual(sorted(volumesWithData(pod, "other", pvbs)), ["data"]);
    });

    it("without PodVolumeBackups for the pod, restic's pod annotations", () => {
        const annotated = withVolumes(pod.spec.volumes as KubeObject[], {
            "snapshot.velero.io/data": "k1",
            "backup.velero.io/backup-volumes": "data",
        });
        assert.deepEqual(sorted(volumesWithData(annotated, "shop", [])), ["data"]);
        const both = [pvb("postgres-0", "wal", { snapshotID: "k2" })];
        assert.deepEqual(sorted(volumesWithData(annotated, "shop", both)), ["wal"], "PodVolumeBackups win");
    });

    it("the backup's name as Velero puts it in the label the restore lists by", () => {
        assert.equal(labelValue("prod-eu-1-daily-20261125020000"), "prod-eu-1-daily-20261125020000");
        const long = `${"a-very-long-cluster-name-for-a-homelab-".repeat(2)}daily-20261125020000`;
        const value = labelValue(long);
        assert.equal(value.length, 63);
        assert.equal(value.slice(0, 57), long.slice(0, 57));
        assert.match(value.slice(57), /^[0-9a-f]{6}$/);
    });

    it("on the simulated cluster: a volume the backup records but Velero will not restore is not waited for", async () => {
        // BackupVolumeInfos says the claim was backed up through its pod; its PodVolumeBackup has no snapshot
        // (the volume was empty), so Velero creates no PodVolumeRestore. Planning from the volume infos expected one.
        const base = homelabBackup();
        const backup: SimulatedBackup = {
            ...base,
            podVolumeBackups: [pvb("postgres-0", "data", { phase: "Completed", snapshotID: "" }, "shop", base.name)],
        };
        const run = await restoreRun("recover", { ...homelab(), backups: [backup] });
        assert.deepEqual((run.outputs.restore as { filledClaims: string[] }).filledClaims, []);
        assert.ok(
            !((run.restore().inputs.spec as KubeObject).includedResources as string[]).includes("pods"),
            "no pod carries data: the Restore takes none",
        );
    });

    it("on the simulated cluster: a backup whose volume infos say nothing still fills the claim its PodVolumeBackup holds", async () => {
        const base = homelabBackup();
        const backup: SimulatedBackup = {
            ...base,
            volumeInfos: base.volumeInfos.filter((v) => v.backupMethod !== "PodVolumeBackup"),
            podVolumeBackups: [pvb("postgres-0", "data", { phase: "Completed", snapshotID: "k1" }, "shop", base.name)],
        };
        const run = await restoreRun("recover", { ...homelab(), backups: [backup] });
        assert.deepEqual((run.outputs.restore as { filledClaims: string[] }).filledClaims, ["shop/data-postgres-0"]);
    });
});
