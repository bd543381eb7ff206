/** Argo CD's names, URLs and labels that the program and its seeding share (argo-cd v3.4.4). */
export const ARGO_API_VERSION = "argoproj.io/v1alpha1";
/** The in-cluster destination (argo-cd `pkg/apis/application/v1alpha1/application_defaults.go`). */
export const IN_CLUSTER_SERVER = "https://kubernetes.default.svc";
/** The in-cluster destination's name. */
export const IN_CLUSTER_NAME = "in-cluster";
/**
 * The seed cluster: the same API server as {@link IN_CLUSTER_SERVER}, spelt with an uppercase scheme so that no
 * lowercase glob matches it. Argo CD compares server URLs as plain strings (`util/db/cluster.go` only trims a
 * trailing slash), and the name `kubernetes.default.svc` is always in the API server's certificate.
 */
export const SEED_CLUSTER_SERVER = "HTTPS://kubernetes.default.svc";
export const SEED_CLUSTER_NAME = "gitops-dr-seed";
/** The AppProject of the seed Applications. */
export const SEED_PROJECT = "gitops-dr-seed";
/** The service account the seed cluster authenticates as. */
export const SEED_SERVICE_ACCOUNT = "gitops-dr-seed";
/** Prefix of every seed Application's name. */
export const SEED_APP_PREFIX = "gitops-dr-seed-";
/** Cluster globs that match every cluster URL except {@link SEED_CLUSTER_SERVER}. */
export const ALL_BUT_SEED_CLUSTER: readonly string[] = ["https://*", "http://*"];
/** Argo CD's cascading-delete finalizer, never set by this program. */
export const CASCADE_FINALIZER = "resources-finalizer.argocd.argoproj.io";
/** Label that makes Argo CD read a Secret as a repository or a cluster (argo-cd `common/common.go`). */
export const SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type";
