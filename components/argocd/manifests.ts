/** Argo CD objects as plain data: the root Application and a repository Secret. */
import { ARGO_API_VERSION, IN_CLUSTER_SERVER, SECRET_TYPE_LABEL } from "./names";
import { MANAGED_LABEL, SYNC_GATE_ANNOTATION } from "../names";

export interface ApplicationManifest {
    readonly apiVersion: typeof ARGO_API_VERSION;
    readonly kind: "Application";
    readonly metadata: {
        readonly name: string;
        readonly namespace: string;
        readonly annotations?: Readonly<Record<string, string>>;
        readonly labels?: Readonly<Record<string, string>>;
    };
    readonly spec: ApplicationSpec;
}

/** The Application spec fields this program sets (argo-cd CRD `applications.argoproj.io`). */
export interface ApplicationSpec {
    readonly project: string;
    readonly source?: Readonly<Record<string, unknown>>;
    readonly sources?: readonly Readonly<Record<string, unknown>>[];
    readonly destination: { readonly server?: string; readonly name?: string; readonly namespace?: string };
    readonly syncPolicy?: {
        readonly automated?: {
            readonly enabled: boolean;
            readonly prune: boolean;
            readonly selfHeal: boolean;
            readonly allowEmpty: boolean;
        };
        readonly syncOptions?: readonly string[];
        readonly retry?: {
            readonly limit: number;
            readonly backoff: { readonly duration: string; readonly factor: number; readonly maxDuration: string };
        };
    };
    readonly ignoreDifferences?: readonly {
        readonly group: string;
        readonly kind: string;
        readonly jsonPointers: readonly string[];
    }[];
}

export interface RootApplicationInput {
    readonly name: string;
    /** Argo CD's namespace: the root app lives there, and so do the Applications it creates. */
    readonly argoCdNamespace: string;
    readonly project: string;
    readonly repoUrl: string;
    readonly path: string;
    readonly revision: string;
    /** Value of the sync-gate annotation, when the root app must wait for something (the restore). */
    readonly syncGate?: string;
}

/**
 * The root Application (app of apps).
 * - No `resources-finalizer.argocd.argoproj.io`: deleting or replacing it deletes nothing it manages; and
 *   `Delete=false` keeps the child Applications even if someone deletes it with cascade from the UI or CLI
 *   (controller/appcontroller.go, shouldBeDeleted).
 * - Automated sync with self-heal, so child Application specs stay as git says.
 * - No automated prune: an Application removed from git, or a wrong path or revision, must not make Argo CD
 *   delete child Applications on its own (their own finalizers would then delete workloads). Removing an app
 *   is a manual prune. `allowEmpty: false` also refuses to sync an empty target.
 * - `ApplyOutOfSyncOnly=true`: a change to one child re-applies that child only.
 * - Retries: the first sync of a fresh or restored cluster may run while Argo CD's repo server still starts.
 * Its health does not include the child apps' health: check those (docs/argocd.md, Validate).
 */
export function rootApplication(input: RootApplicationInput): ApplicationManifest {
    return {
        apiVersion: ARGO_API_VERSION,
        kind: "Application",
        metadata: {
            name: input.name,
            namespace: input.argoCdNamespace,
            ...(input.syncGate === undefined ? {} : { annotations: { [SYNC_GATE_ANNOTATION]: input.syncGate } }),
        },
        spec: {
            project: input.project,
            source: { repoURL: input.repoUrl, path: input.path, targetRevision: input.revision },
            destination: { server: IN_CLUSTER_SERVER, namespace: input.argoCdNamespace },
            syncPolicy: {
                automated: { enabled: true, prune: false, selfHeal: true, allowEmpty: false },
                syncOptions: ["Delete=false", "ApplyOutOfSyncOnly=true"],
                retry: { limit: 5, backoff: { duration: "10s", factor: 2, maxDuration: "3m" } },
            },
        },
    };
}

/** Credentials of a private git repository: HTTPS basic auth (a token as password) or an SSH key. */
export type RepositoryCredentials<T = string> =
    { readonly username: T; readonly password: T } | { readonly sshPrivateKey: T };

/** A Secret as plain data. */
export interface SecretManifest<T = string> {
    readonly metadata: {
        readonly name: string;
        readonly namespace: string;
        readonly labels?: Readonly<Record<string, string>>;
        readonly annotations?: Readonly<Record<string, string>>;
    };
    readonly type: string;
    readonly stringData: Readonly<Record<string, T>>;
}

/** Whether a repository URL is an SSH one (`git@host:org/repo` or `ssh://`). */
export function isSshUrl(url: string): boolean {
    return url.startsWith("ssh://") || /^[A-Za-z0-9._-]+@[^:/]+:/.test(url);
}

/**
 * The repository Secret Argo CD reads: labelled `argocd.argoproj.io/secret-type: repository` in Argo CD's
 * namespace, with `type`, `url` and the credentials (argo-cd docs, declarative setup, Repositories). Argo CD
 * reads it from its own namespace, so the Secret exclusion does not hide it.
 */
export function repositorySecret<T>(input: {
    readonly name: string;
    readonly namespace: string;
    readonly url: string;
    readonly credentials: RepositoryCredentials<T>;
}): SecretManifest<T | string> {
    const credentials = input.credentials;
    const auth: Record<string, T> =
        "sshPrivateKey" in credentials
            ? { sshPrivateKey: credentials.sshPrivateKey }
            : { username: credentials.username, password: credentials.password };
    return {
        metadata: {
            name: input.name,
            namespace: input.namespace,
            // The program makes it again: the credentials backup leaves it out.
            labels: { [SECRET_TYPE_LABEL]: "repository", [MANAGED_LABEL]: "true" },
        },
        type: "Opaque",
        stringData: { type: "git", url: input.url, ...auth },
    };
}

/** An Application as read from the cluster, unchecked. */
