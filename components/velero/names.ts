/** Velero's fixed names: what is backed up, the Secret and locations it uses, and the chart's naming rule. */

/**
 * What every schedule backs up: the persistent data. Argo CD rebuilds everything else from git. ServiceAccounts
 * come along so that a token Secret made by hand (`kubernetes.io/service-account-token`) survives: the token
 * controller deletes one whose ServiceAccount does not exist (kubernetes `pkg/controller/serviceaccount/
 * tokens_controller.go` `syncSecret`), and ServiceAccounts from git arrive only after the restore. Velero restores
 * ServiceAccounts before Secrets (`pkg/cmd/server/config/config.go` `defaultRestorePriorities`), drops the old token
 * and UID from such a Secret, and merges an existing ServiceAccount instead of warning (`pkg/restore/actions/
 * secret_action.go`, `restore.go` `mergeServiceAccounts`); Argo CD applies its own copy over it afterwards.
 */
export const BACKED_UP_RESOURCES = [
    "persistentvolumes",
    "persistentvolumeclaims",
    "secrets",
    "serviceaccounts",
] as const;

/** Namespaces never backed up: the cluster's own, and those of the tools that rebuild it. */
export const SYSTEM_NAMESPACES = ["kube-system", "kube-public", "kube-node-lease"] as const;

/**
 * The weekly verification's scratch namespaces (components/verify `SCRATCH_PREFIX`), as a namespace pattern every
 * Schedule excludes: a backup taken while a verification runs would otherwise hold a copy of restored data under a
 * name no restore maps back, and the next verification would restore it again. Velero v1.18.1 matches excluded
 * namespaces as globs (`pkg/util/collections/includes_excludes.go`, `globStringSet`), expands them against the
 * namespaces that exist at backup time (`pkg/util/wildcard/expand.go`; an empty include list counts as `*`,
 * `pkg/controller/backup_controller.go` `prepareBackupRequest`) and accepts `*` in a name
 * (`validateNamespaceName`).
 */
export const VERIFY_SCRATCH_NAMESPACES = "gdr-verify-*";

/** Name of the Secret holding kopia's repository password (velero `pkg/repository/keys/keys.go`). */
export const REPO_CREDENTIALS_SECRET = "velero-repo-credentials";
/** Data key of the repository password in {@link REPO_CREDENTIALS_SECRET}. */
export const REPO_PASSWORD_KEY = "repository-password";

/** BSL names: the location a cluster writes to, and the read-only one it restores from. */
export const WRITE_LOCATION = "default";
export const SOURCE_LOCATION = "source";

/** The chart's `velero.fullname`: the release name when it contains "velero", else `<release>-velero`. */
export function veleroFullname(releaseName: string): string {
    return releaseName.includes("velero") ? releaseName : `${releaseName}-velero`;
}

/** The chart's server service account name (`<fullname>-server`), the subject of IRSA's trust. */
export function serverServiceAccountName(releaseName: string): string {
    return `${veleroFullname(releaseName)}-server`;
}

/** The init container's name for a plugin image: its repository's last segment. */
export function pluginContainerName(image: string): string {
    const path = image.replace(/@.*$/, "").replace(/:[^/:]+$/, "");
    return path.slice(path.lastIndexOf("/") + 1).slice(0, 63);
}
