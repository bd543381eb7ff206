/**
 * Pods restored only as vessels for file-system backup data. Velero 1.18 writes such data only into a pod it restores
 * itself: `PodVolumeRestoreAction` puts its `restore-wait` init container first in every restored pod that has
 * PodVolumeBackups (velero v1.18.1 `pkg/restore/actions/pod_volume_restore_action.go`), and the node agent fills the
 * pod's volumes while that container waits (`pkg/controller/pod_volume_restore_controller.go`); a data-only restore
 * does not exist (velero #7345). Argo CD still owns every workload, so a restore that takes pods turns each into an
 * inert vessel with resource modifiers (modifiers.ts), and the post-restore task deletes the vessels before the
 * root Application syncs, so that the StatefulSets and Deployments from git bind the filled claims by name.
 *
 * Modifiers run after the restore item actions, so `restore-wait` is already at index 0 and the pod's own init
 * containers follow it (`restore.go` `restoreItem`); each rule is matched against the pod as it was before any rule,
 * and a rule whose patch fails leaves the pod as that rule found it and adds an error, so the Restore ends
 * PartiallyFailed (`internal/resourcemodifiers/resource_modifiers.go` `ApplyResourceModifierRules`): so the rule
 * that takes the app's containers away is one whose operations cannot fail.
 */
import { VESSEL_LABEL } from "../tasks/labels";
import { JsonPatchOperation, ModifierRule, exactly } from "./modifiers";

/** A backed-up pod whose volumes hold file-system backup data, as the pre-restore task reads it from the backup. */
export interface VesselPod {
    /** Its namespace in the backup: modifiers run before Velero maps namespaces (`restoreItem`). */
    readonly namespace: string;
    readonly name: string;
    /** The names of its own init containers, in order; Velero puts `restore-wait` before them. */
    readonly initContainers: readonly string[];
    /** Its volumes that hold file-system backup data, as the backup holds them (core/v1 `Volume`). */
    readonly volumes: readonly Readonly<Record<string, unknown>>[];
    /**
     * Whether it keeps its `nodeSelector` and node affinity: `true` when some node of the cluster restored into
     * carries the labels they require (the pre-restore task checks), so that the vessel lands, and a claim without a
     * volume yet is provisioned, only where the pod from git may run too; `false` when no node does (a hostname of
     * the lost cluster), so that the vessel is not Pending forever.
     */
    readonly keepsNodeConstraints: boolean;
}

/** Every pod the Restore takes back, split by whether it carries file-system backup data. */
export interface VesselPlan {
    readonly withData: readonly VesselPod[];
    /** Pods of the restored namespaces without such data: restored too (a Restore takes pods by type), as vessels. */
    readonly withoutData: readonly { readonly namespace: string; readonly name: string }[];
}

/** The init container Velero puts first in a pod it restores file-system backup data into (`restorehelper`). */
export const RESTORE_WAIT = "restore-wait";
/** Init containers Velero removes from a restored pod before it adds its own (`restore-wait`, restic's older name). */
export const VELERO_INIT_CONTAINERS = [RESTORE_WAIT, "restic-wait"] as const;

/** The one container of a vessel. */
export const VESSEL_CONTAINER_NAME = "gitops-dr-vessel";

/**
 * The vessel's only container: Velero's own image (the one `restore-wait` runs: the server's, `GetVeleroServerImage`),
 * printing its version and ending, so that a vessel ends `Succeeded` once its volumes are filled. The image runs as
 * the non-numeric user `cnb` (velero `Dockerfile`), so `runAsNonRoot` needs a numeric `runAsUser` to be checked; the
 * security context meets the `restricted` Pod Security profile, so any restored namespace admits it.
 */
export function vesselContainer(image: string): Record<string, unknown> {
    return {
        name: VESSEL_CONTAINER_NAME,
        image,
        command: ["/velero", "version", "--client-only"],
        resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "64Mi" } },
        securityContext: {
            allowPrivilegeEscalation: false,
            capabilities: { drop: ["ALL"] },
            runAsNonRoot: true,
            runAsUser: 65532,
            runAsGroup: 65532,
            seccompProfile: { type: "RuntimeDefault" },
        },
    };
}

const add = (path: string, value: unknown): JsonPatchOperation => ({
    operation: "add",
    path,
    // Velero splices a JSON value unquoted and quotes any other string (json_patch.go `addQuotes`): an empty string
    // stays "", a name is quoted.
    value: typeof value === "string" ? value : JSON.stringify(value),
});

/**
 * What the API server would refuse in a pod it is asked to create: an explicit `preemptionPolicy` that differs
 * from the one the Priority admission plugin computes from the (now default) PriorityClass ("must not be provided
 * in pod spec", kubernetes plugin/pkg/admission/priority), and `ephemeralContainers` (a `kubectl debug` left them
 * in the backed-up pod; they cannot be set on create). A merge patch: `null` removes a member, and a missing one is
 * no error, so this rule cannot fail either.
 */
export const ADMISSIBLE_RULE: ModifierRule = {
    conditions: { groupResource: "pods" },
    mergePatches: [{ patchData: JSON.stringify({ spec: { preemptionPolicy: null, ephemeralContainers: null } }) }],
};

/**
 * What would keep a vessel from being scheduled, or created, on a new cluster, removed from every restored pod
 * (Velero's `PodAction` removes only `nodeName` and `priority`, velero v1.18.1 `pkg/restore/actions/pod_action.go`):
 * - pod affinity and anti-affinity: a vessel carries none of the app's labels and no app pod runs before Argo CD
 *   syncs, so a required term would never be met;
 * - `schedulerName`: a scheduler that comes from git is not running yet, and nothing else binds the pod (the API
 *   server defaults it back to `default-scheduler`);
 * - `topologySpreadConstraints`, `schedulingGates` and `resourceClaims` (dynamic resource allocation: its claims and
 *   templates come from git): they count or wait for what does not exist yet;
 * - `runtimeClassName` and the `overhead` its admission sets: the RuntimeClass admission plugin refuses an unknown
 *   class, and an overhead without a class (kubernetes plugin/pkg/admission/runtimeclass);
 * - `hostNetwork`, `hostPID`, `hostIPC` and `securityContext.sysctls`: the vessel needs none, a drill's admission
 *   policy refuses a host-network pod (components/drill), and a kubelet refuses sysctls it does not allow.
 * Tolerations stay: they only widen where a pod may go, and the vessel must not land, and have its claim
 * provisioned, on a node the pod from git cannot tolerate. The node constraints go by {@link nodeConstraintsRule}.
 * The volumes' own node affinity (a `local` PersistentVolume's) is untouched, so it still decides the node. A merge
 * patch (RFC 7386): `null` removes a member, a missing one is no error, so this rule cannot fail.
 */
export const SCHEDULABLE_RULE: ModifierRule = {
    conditions: { groupResource: "pods" },
    mergePatches: [
        {
            patchData: JSON.stringify({
                spec: {
                    affinity: { podAffinity: null, podAntiAffinity: null },
                    schedulerName: null,
                    topologySpreadConstraints: null,
                    schedulingGates: null,
                    resourceClaims: null,
                    runtimeClassName: null,
                    overhead: null,
                    hostNetwork: null,
                    hostPID: null,
                    hostIPC: null,
                    securityContext: { sysctls: null },
                },
            }),
        },
    ],
};

/**
 * The pods' `nodeSelector` and node affinity removed (those of the pods named), for vessels no node of the new
 * cluster would take as they are. A merge patch, so it cannot fail.
 */
export function nodeConstraintsRule(namespace: string, names: readonly string[]): ModifierRule {
    return {
        conditions: { groupResource: "pods", namespaces: [namespace], resourceNameRegex: exactly(names) },
        mergePatches: [
            { patchData: JSON.stringify({ spec: { nodeSelector: null, affinity: { nodeAffinity: null } } }) },
        ],
    };
}

/**
 * What every restored pod becomes, whatever else holds: no labels (no ReplicaSet, StatefulSet, Service or Argo CD
 * adopts or selects it) but the vessel label, no annotations, the namespace's `default` service account without a
 * token, no priority class (one from git may not exist yet, and the Priority admission plugin refuses an unknown
 * one), never restarted, and the one vessel container. Every `add` replaces a member of `metadata` or `spec`, which
 * every pod has, so this rule cannot fail.
 */
export function inertRule(image: string): ModifierRule {
    return {
        conditions: { groupResource: "pods" },
        patches: [
            add("/metadata/labels", { [VESSEL_LABEL]: "true" }),
            add("/metadata/annotations", {}),
            add("/spec/serviceAccountName", "default"),
            add("/spec/serviceAccount", "default"),
            add("/spec/automountServiceAccountToken", false),
            add("/spec/priorityClassName", ""),
            add("/spec/readinessGates", []),
            add("/spec/restartPolicy", "Never"),
            add("/spec/containers", [vesselContainer(image)]),
        ],
    };
}

/**
 * The rules that make restored pods vessels, in order. For each pod with data: its volumes cut to those that hold
 * data (a ConfigMap or Secret volume from git would keep the pod from starting); when it has init containers of its
 * own, they are removed if `restore-wait` is first (as Velero puts it), and all init containers are removed if the
 * app's own first one is first (Velero found no PodVolumeBackup for the pod: the post-restore task then finds no
 * PodVolumeRestore for its volumes and stops). Both are `matches` conditions on the pod before any rule, so no app
 * init container runs either way. For the other pods of each namespace: no init containers and no volumes, and no
 * node constraints (they carry nothing, so where they land does not matter). Pods with data whose node constraints
 * no node meets lose them too. Then {@link inertRule}, {@link ADMISSIBLE_RULE} and {@link SCHEDULABLE_RULE} for
 * every pod.
 */
export function vesselRules(plan: VesselPlan, image: string): ModifierRule[] {
    if (plan.withData.length === 0 && plan.withoutData.length === 0) {
        return [];
    }
    const withData: ModifierRule[] = plan.withData.flatMap((p) => {
        const pod = { groupResource: "pods", namespaces: [p.namespace], resourceNameRegex: exactly([p.name]) };
        const own = p.initContainers.length;
        return [
            { conditions: pod, patches: [add("/spec/volumes", p.volumes)] },
            ...(own === 0
                ? []
                : [
                      {
                          conditions: {
                              ...pod,
                              matches: [{ path: "/spec/initContainers/0/name", value: RESTORE_WAIT }],
                          },
                          // From the last down, so each index still names the container it meant.
                          patches: Array.from({ length: own }, (_, i) => ({
                              operation: "remove" as const,
                              path: `/spec/initContainers/${own - i}`,
                          })),
                      },
                      {
                          conditions: {
                              ...pod,
                              matches: [{ path: "/spec/initContainers/0/name", value: p.initContainers[0] }],
                          },
                          patches: [add("/spec/initContainers", [])],
                      },
                  ]),
        ];
    });
    const byNamespace = new Map<string, string[]>();
    for (const p of plan.withoutData) {
        byNamespace.set(p.namespace, [...(byNamespace.get(p.namespace) ?? []), p.name]);
    }
    const withoutData: ModifierRule[] = [...byNamespace].map(([namespace, names]) => ({
        conditions: { groupResource: "pods", namespaces: [namespace], resourceNameRegex: exactly(names) },
        patches: [add("/spec/initContainers", []), add("/spec/volumes", [])],
    }));
    const unplaced = new Map<string, string[]>(byNamespace);
    for (const p of plan.withData.filter((w) => !w.keepsNodeConstraints)) {
        unplaced.set(p.namespace, [...(unplaced.get(p.namespace) ?? []), p.name]);
    }
    const placement = [...unplaced].map(([namespace, names]) => nodeConstraintsRule(namespace, names));
    return [...withData, ...withoutData, ...placement, inertRule(image), ADMISSIBLE_RULE, SCHEDULABLE_RULE];
}
