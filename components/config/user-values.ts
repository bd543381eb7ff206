/**
 * Values of your own: `gitops-dr:argoCdValues` and `gitops-dr:veleroValues`, chart values deep-merged over the
 * program's (components/helm-values.ts `mergeValues`), for what a platform needs and gitops-dr does not decide:
 * SSO, ingress, resources, tolerations, node selectors, extra labels.
 *
 * Every path gitops-dr's guarantees rest on is refused, by path, each problem naming what to set instead: a
 * user value there would silently undo a guarantee (Argo CD applying Secrets, a Schedule outside the lock, a
 * plugin image from a public registry in an air-gapped recovery). A guarded path is refused when the user's
 * object reaches it, and when an object on its way is replaced by something that is not an object (`configs.cm:
 * null` would drop the exclusions as surely as setting them). The charts' own images are pinned
 * (components/versions.ts) and move only with `gitops-dr:imageRegistry`; containers of your own (in a list, such
 * as `repoServer.extraContainers`) name their image, from the mirror when there is one. Credentials in the values
 * must be set with `--secret`: the values then go to Helm as a secret.
 */
import { ConfigReader, fq, q } from "./reader";
import type { ConfigKey } from "./keys";

/** A chart values path gitops-dr owns. `*` stands for any one key. */
export interface GuardedPath {
    readonly path: readonly string[];
    /** What breaks if a user value replaced it. */
    readonly why: string;
    /** What to set instead. */
    readonly instead: string;
}

/** The user's values for one chart, validated. */
export interface UserValues {
    readonly values: Readonly<Record<string, unknown>>;
    /** Set with `--secret`: the merged values go to Helm as a secret. */
    readonly secret: boolean;
}

export const NO_USER_VALUES: UserValues = { values: {}, secret: false };

const CONSTANT = "nothing: gitops-dr sets it the one way a recovery works";

/** argo-cd chart 10.1.1 paths (../shared/reference/argo-cd-chart-10.1.1/values.yaml). */
export const ARGO_CD_GUARDED: readonly GuardedPath[] = [
    {
        path: ["configs", "cm", "resource.exclusions"],
        why: "it keeps Argo CD from applying, watching or pruning PersistentVolumes, PersistentVolumeClaims, Secrets and Velero's objects, which the backup restores",
        instead: CONSTANT,
    },
    {
        path: ["configs", "cm", "resource.inclusions"],
        why: "it lets Argo CD create claims and Secrets on the seed cluster only, while first-install seeding is on",
        instead: "gitops-dr:newAppVolumes (the Applications allowed to create their first volumes)",
    },
    {
        path: ["configs", "cm", "application.resourceTrackingMethod"],
        why: "annotation tracking is what lets restored objects, which keep their tracking annotations, be adopted by the right Application",
        instead: CONSTANT,
    },
    {
        path: ["configs", "cm", "create"],
        why: "without the argocd-cm ConfigMap (the chart renders it only when create is true) the resource exclusions and the tracking method are gone, and Argo CD applies and prunes the restored Secrets and claims",
        instead: CONSTANT,
    },
    {
        path: ["crds"],
        why: "the Application CRD is kept when the release is removed, and with it every Application and its workloads",
        instead: CONSTANT,
    },
    {
        path: ["extraObjects"],
        why: "the release is installed before the restore, so an Application or workload here would create empty claims before the backup's come back",
        instead: "your git repository (gitops-dr:gitRepoUrl), which Argo CD syncs after the restore",
    },
    {
        path: ["namespaceOverride"],
        why: "the program creates Argo CD's namespace and the root Application in it",
        instead: "gitops-dr:argoCdNamespace",
    },
];

/** velero chart 12.1.0 paths (../shared/reference/velero-chart-12.1.0/values.yaml). */
export const VELERO_GUARDED: readonly GuardedPath[] = [
    {
        path: ["schedules"],
        why: "the backups are Schedule objects gitops-dr creates after a restore, within the vault's lock",
        instead:
            "gitops-dr:backupSchedule, backupTtl, weeklyBackupSchedule, weeklyBackupTtl, monthlyBackupSchedule, monthlyBackupTtl",
    },
    {
        path: ["configuration", "backupStorageLocation"],
        why: "the locations point at the vault's prefixes, the source one read-only",
        instead: "gitops-dr:bucketName, prefix, region, sourcePrefix (or sourceStack)",
    },
    {
        path: ["configuration", "volumeSnapshotLocation"],
        why: "it follows how volume data is saved",
        instead: "gitops-dr:volumeDataMode",
    },
    {
        path: ["configuration", "features"],
        why: "EnableCSI drives the data mover",
        instead: "gitops-dr:volumeDataMode",
    },
    {
        path: ["configuration", "defaultSnapshotMoveData"],
        why: "it moves snapshot data into the vault",
        instead: "gitops-dr:volumeDataMode",
    },
    {
        path: ["configuration", "defaultVolumesToFsBackup"],
        why: "file-system backup of every volume replaces the snapshots the restore expects",
        instead: "gitops-dr:volumeDataMode",
    },
    {
        path: ["configuration", "uploaderType"],
        why: "the repository in the vault is kopia's",
        instead: CONSTANT,
    },
    {
        path: ["configuration", "restoreOnlyMode"],
        why: "it turns off the schedule controller, so no backup is taken and no backup alert can fire (velero v1.18.1 pkg/cmd/server/server.go)",
        instead: CONSTANT,
    },
    {
        path: ["configuration", "disableControllers"],
        why: "the schedules, backups and restores need every controller (a disabled schedule controller takes no backup and raises no alert)",
        instead: CONSTANT,
    },
    {
        path: ["configuration", "restoreResourcePriorities"],
        why: "Velero's default order restores ServiceAccounts before Secrets, which keeps hand-made tokens (the chart's example puts secrets first)",
        instead: CONSTANT,
    },
    {
        path: ["configuration", "extraArgs"],
        why: "server flags override what the values above set (volume data, uploader, namespace, controllers)",
        instead: "the chart value or gitops-dr key for what you need; ask for one that is missing",
    },
    {
        path: ["configuration", "namespace"],
        why: "the server would watch another namespace than the one gitops-dr creates its Schedules and Restores in",
        instead: "gitops-dr:veleroNamespace",
    },
    {
        path: ["extraObjects"],
        why: "objects installed with Velero (a Schedule or location of your own) would sit outside the vault's lock and the program's checks",
        instead: "gitops-dr's backup keys (backupSchedule, weeklyBackupSchedule, ...)",
    },
    {
        path: ["rbac", "create"],
        why: "Velero restores every kind of object and needs its cluster role",
        instead: CONSTANT,
    },
    {
        path: ["rbac", "clusterAdministrator"],
        why: "Velero restores every kind of object and needs its cluster role",
        instead: CONSTANT,
    },
    {
        path: ["configuration", "defaultBackupStorageLocation"],
        why: "backups go to the cluster's own location",
        instead: "gitops-dr:prefix",
    },
    {
        path: ["configuration", "defaultVolumeSnapshotLocations"],
        why: "it follows how volume data is saved",
        instead: "gitops-dr:volumeDataMode",
    },
    { path: ["backupsEnabled"], why: "without it no backup storage location exists", instead: CONSTANT },
    { path: ["snapshotsEnabled"], why: "it follows how volume data is saved", instead: "gitops-dr:volumeDataMode" },
    {
        path: ["deployNodeAgent"],
        why: "the data mover and file-system backup run in the node agent",
        instead: "gitops-dr:volumeDataMode, gitops-dr:fileSystemBackupVolumeTypes",
    },
    {
        path: ["nodeAgent", "extraArgs"],
        why: "they point the node agent at the configuration gitops-dr writes (a list replaces the program's)",
        instead: "gitops-dr:dataMoverNodeLabels",
    },
    {
        path: ["configMaps"],
        why: "the node agent's configuration is gitops-dr's",
        instead: "gitops-dr:dataMoverNodeLabels, dataMoverConcurrency, dataMoverNodeConcurrency",
    },
    {
        path: ["credentials"],
        why: "how Velero reaches the vault is chosen with its IAM policy",
        instead: "gitops-dr:credentialsMode (irsa, podIdentity or staticKeys)",
    },
    {
        path: ["serviceAccount", "server", "annotations", "eks.amazonaws.com/role-arn"],
        why: "the role is the least-privilege one gitops-dr creates for this stack",
        instead: "gitops-dr:credentialsMode",
    },
    {
        path: ["serviceAccount", "server", "name"],
        why: "IRSA's trust policy and the Pod Identity association name this service account",
        instead: "gitops-dr:veleroReleaseName",
    },
    {
        path: ["serviceAccount", "server", "create"],
        why: "IRSA's trust policy and the Pod Identity association name this service account",
        instead: CONSTANT,
    },
    {
        path: ["initContainers"],
        why: "the AWS plugin is pinned (a list replaces the program's)",
        instead:
            "gitops-dr:veleroPlugins for further plugins, gitops-dr:awsPluginVersion, and gitops-dr:imageRegistry for a mirror",
    },
    {
        path: ["upgradeCRDs"],
        why: "Velero's CRDs must match the pinned server",
        instead: CONSTANT,
    },
    {
        path: ["cleanUpCRDs"],
        why: "removing the CRDs on uninstall deletes every Schedule and Restore with them",
        instead: CONSTANT,
    },
    {
        path: ["nameOverride"],
        why: "the node agent's configuration, the service account and the alerts are named after the release",
        instead: "gitops-dr:veleroReleaseName",
    },
    {
        path: ["fullnameOverride"],
        why: "the node agent's configuration, the service account and the alerts are named after the release",
        instead: "gitops-dr:veleroReleaseName",
    },
    { path: ["metrics", "enabled"], why: "the backup alerts read Velero's metrics", instead: CONSTANT },
    {
        path: ["metrics", "prometheusRule", "spec"],
        why: "the backup alerts are gitops-dr's, one per Schedule",
        instead: "gitops-dr:prometheusOperator and gitops-dr:monitoringLabels",
    },
    {
        path: ["metrics", "prometheusRule", "enabled"],
        why: "the backup alerts are gitops-dr's",
        instead: "gitops-dr:prometheusOperator",
    },
    {
        path: ["metrics", "serviceMonitor", "enabled"],
        why: "the backup alerts need Velero's metrics scraped",
        instead: "gitops-dr:prometheusOperator",
    },
    {
        path: ["metrics", "nodeAgentPodMonitor", "enabled"],
        why: "the data mover's metrics are scraped with the server's",
        instead: "gitops-dr:prometheusOperator",
    },
];

/** Whether a key pins an image: `image`, `initImage`, `extensionImage`... */
const isImageKey = (key: string) => key === "image" || /[a-z]Image$/.test(key);
/** The fields of an image value that choose what is pulled; `pullPolicy` and pull secrets stay the user's. */
const IMAGE_FIELDS = ["repository", "tag", "digest", "registry"];
/** Leaf keys whose value is a credential: it must not sit in the stack file in plain text. */
const isCredentialKey = (key: string) =>
    /(password|passwd|secret|token|privatekey|clientsecret|apikey|accesskey|keydata|certkey|tlskey)$/i.test(
        key.replace(/[-_.]/g, ""),
    );
/**
 * A configuration string with a credential written into it (`dex.config`, `oidc.config`: `clientSecret: abc`),
 * rather than a reference Argo CD resolves (`$dex.github.clientSecret`, `$secret-name:key`).
 */
const hasInlineCredential = (text: string) =>
    /^\s*(clientSecret|client_secret|password|bindPW|token)\s*:\s*["']?[^\s"'$]/im.test(text);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * `gitops-dr:argoCdValues.configs.cm["resource.exclusions"]`: a path as `pulumi config set --path` reads it
 * (pulumi `resource.ParsePropertyPath`: names after dots, other keys quoted in brackets, list indices bare).
 */
function showPath(key: ConfigKey, path: readonly string[]): string {
    return (
        fq(key) +
        path.map((p) => (/^\d+$/.test(p) ? `[${p}]` : /^[A-Za-z_][\w-]*$/.test(p) ? `.${p}` : `["${p}"]`)).join("")
    );
}

/** The paths of `values` a guarded path is reached or replaced at, each with the guarded path it concerns. */
function guardedHits(
    values: Record<string, unknown>,
    guard: readonly string[],
    at: readonly string[] = [],
): (readonly string[])[] {
    if (guard.length === 0) {
        return [at];
    }
    const [head, ...rest] = guard;
    const keys = head === "*" ? Object.keys(values) : Object.keys(values).filter((k) => k === head);
    const hits: (readonly string[])[] = [];
    for (const k of keys) {
        const v = values[k];
        if (rest.length === 0 || !isObject(v)) {
            // Set there, or an object on the way replaced by a scalar, a list or null.
            hits.push([...at, k]);
        } else {
            hits.push(...guardedHits(v, rest, [...at, k]));
        }
    }
    return hits;
}

/** What {@link walk} finds. */
interface Found {
    /** Image-choosing paths of the charts' own components (not inside a list): pinned. */
    readonly images: (readonly string[])[];
    /** Images of containers of your own (inside a list: `extraContainers`, sidecars), with their reference. */
    readonly ownImages: { readonly path: readonly string[]; readonly reference: string }[];
    readonly credentials: (readonly string[])[];
}

/** Every image-choosing path and every credential leaf in `values`. */
function walk(values: Record<string, unknown>, at: readonly string[], found: Found, inList = false): void {
    for (const [k, v] of Object.entries(values)) {
        const path = [...at, k];
        if (isImageKey(k)) {
            if (inList) {
                const reference = isObject(v)
                    ? [v.registry, v.repository].filter((x) => typeof x === "string").join("/")
                    : String(v);
                found.ownImages.push({ path, reference });
            } else if (isObject(v)) {
                found.images.push(...IMAGE_FIELDS.filter((f) => f in v).map((f) => [...path, f]));
            } else {
                found.images.push(path);
            }
            continue;
        }
        if (isObject(v)) {
            walk(v, path, found, inList);
        } else if (Array.isArray(v)) {
            v.forEach((item, i) => {
                if (isObject(item)) {
                    walk(item, [...path, String(i)], found, true);
                }
            });
        } else if (typeof v === "string" && v !== "" && (isCredentialKey(k) || hasInlineCredential(v))) {
            found.credentials.push(path);
        }
    }
}

/**
 * Reads one chart-values key: a JSON object (as the CLI passes a YAML map), with every guarded path, image and
 * plain-text credential reported as a problem.
 */
export function parseUserValues(
    r: ConfigReader,
    key: ConfigKey,
    guarded: readonly GuardedPath[],
    imageRegistry?: string,
): UserValues {
    const raw = r.raw[key];
    if (raw === undefined || raw.value === "") {
        return NO_USER_VALUES;
    }
    let parsed: unknown;
    try {
        parsed = JSON.parse(raw.value);
    } catch {
        parsed = undefined;
    }
    const example = `pulumi config set --path '${fq(key)}.server.replicas' 2`;
    if (!isObject(parsed)) {
        const shown = raw.secret ? "(a secret)" : q(raw.value);
        r.problem(
            key,
            `${shown} is not a map of chart values. Fix: set it as a YAML map under ${fq(key)} in Pulumi.${r.stack}.yaml, or \`${example}\`.`,
        );
        return NO_USER_VALUES;
    }
    let ok = true;
    for (const guard of guarded) {
        for (const hit of guardedHits(parsed, guard.path)) {
            ok = false;
            const replaces = hit.length < guard.path.length;
            r.problem(
                key,
                `${replaces ? `replaces ${showPath(key, hit)}, and with it ${showPath(key, guard.path)}` : `sets ${showPath(key, hit)}`}, which gitops-dr owns: ${guard.why}. Fix: \`pulumi config rm --path '${showPath(key, hit)}'\`; set ${guard.instead}.`,
            );
        }
    }
    const found: Found = { images: [], ownImages: [], credentials: [] };
    walk(parsed, [], found);
    for (const image of found.images) {
        ok = false;
        r.problem(
            key,
            `sets ${showPath(key, image)}: every image is pinned (components/versions.ts), so a recovery pulls exactly what was tested. Fix: \`pulumi config rm --path '${showPath(key, image)}'\`; to pull the pinned images from your own registry, set gitops-dr:imageRegistry.`,
        );
    }
    // Containers of your own (a config management plugin's sidecar...) may name their image; with a mirror, it
    // must be the mirror's, as every other image is.
    for (const own of found.ownImages) {
        if (imageRegistry !== undefined && !own.reference.startsWith(`${imageRegistry}/`)) {
            ok = false;
            r.problem(
                key,
                `sets ${showPath(key, own.path)} to ${q(own.reference)}, outside gitops-dr:imageRegistry ${q(imageRegistry)}: with a mirror every image comes from it, so a recovery needs no public registry. Fix: copy the image to ${imageRegistry} and \`pulumi config set --path '${showPath(key, own.path)}' ${imageRegistry}/<repository>:<tag>\`.`,
            );
        }
    }
    if (!raw.secret) {
        for (const credential of found.credentials) {
            ok = false;
            r.problem(
                key,
                `sets ${showPath(key, credential)} in plain text: a credential must be encrypted in the stack file. Fix: \`pulumi config set --secret --path '${showPath(key, credential)}' <value>\` (the whole ${fq(key)} is then a secret).`,
            );
        }
    }
    return ok ? { values: parsed, secret: raw.secret } : NO_USER_VALUES;
}
