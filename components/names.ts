/**
 * Names every layer shares: Kubernetes' name rules, the defaults of the names gitops-dr gives what it installs,
 * and the one prefix of every annotation and label gitops-dr writes into a cluster.
 */

/** An RFC 1123 label: namespaces, Helm release names, most object names (Kubernetes `IsDNS1123Label`). */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** An RFC 1123 subdomain: object names that may contain dots (Kubernetes `IsDNS1123Subdomain`). */
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Whether `s` is an RFC 1123 label of at most `max` characters (63 for Kubernetes). */
export const isDnsLabel = (s: string, max = 63): boolean => s.length <= max && DNS_LABEL.test(s);
/** Whether `s` is an RFC 1123 subdomain of at most 253 characters. */
export const isDnsSubdomain = (s: string): boolean => s.length <= 253 && DNS_SUBDOMAIN.test(s);

/** A plain JSON object (not an array, not null). */
export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);

/** The names gitops-dr installs under unless configured otherwise (`gitops-dr:veleroNamespace`, ...). */
export const DEFAULT_NAMES = {
    veleroNamespace: "velero",
    veleroRelease: "velero",
    argoCdNamespace: "argocd",
    argoCdRelease: "argocd",
    rootApplication: "root",
} as const;

/**
 * The prefix of every annotation and label gitops-dr puts on objects in a cluster. One prefix, a DNS subdomain as
 * Kubernetes recommends for keys others may read (docs "Annotations", "Labels and Selectors": the prefix names
 * who owns the key). Until 2026-12 the root Application's gate used `gitops-dr/sync-gate`; a `pulumi up` after
 * the change rewrites it (server-side apply drops the key the program no longer sets).
 */
export const KEY_PREFIX = "gitops-dr.io/";

/** `gitops-dr.io/<name>`. */
export const gitopsDrKey = (name: string): string => `${KEY_PREFIX}${name}`;

/** Annotation of an object that must not exist before the restore ended: its value is the checked restore's name. */
export const AFTER_RESTORE_ANNOTATION = gitopsDrKey("after-restore");
/** Annotation of the root Application that carries the sync gate (the checked restore's name). */
export const SYNC_GATE_ANNOTATION = gitopsDrKey("sync-gate");
/** Annotation of the drill's verification Job: the root Application it verifies. */
export const ROOT_APP_ANNOTATION = gitopsDrKey("root-app");
/**
 * Label of every Secret this program creates in a cluster (Argo CD's root repository, the seed cluster): they are
 * made again by the program, so the credentials backup leaves them out (components/velero/credentials.ts).
 */
export const MANAGED_LABEL = gitopsDrKey("managed");

/**
 * A DNS label from parts joined by `-`: as it is when it fits in `max`, else cut and ended with a hash of the whole,
 * so two long names never collide (Velero keeps a name as a label value, at most 63 characters).
 */
export function dnsLabelOf(parts: readonly string[], max = 63): string {
    const whole = parts.join("-");
    if (whole.length <= max) {
        return whole;
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const hash = (require("node:crypto") as typeof import("node:crypto"))
        .createHash("sha256")
        .update(whole)
        .digest("hex");
    return `${whole.slice(0, max - 7).replace(/-+$/, "")}-${hash.slice(0, 6)}`;
}

/**
 * The alias gitops-dr gives a vault key it creates, so that a person with only the bucket's name can find the key:
 * `alias/<bucket>`, dots made hyphens (a KMS alias takes letters, digits, `/`, `_` and `-`: KMS `CreateAlias`).
 */
export const vaultKeyAlias = (bucketName: string): string => `alias/${bucketName.replace(/\./g, "-")}`;
