/**
 * The simulated cluster's objects, and the Kubernetes API over them that the in-cluster tasks use
 * (components/tasks/kube.js `KubeApi`): get, list with label selectors, create (with generateName), delete, JSON
 * merge patch. The tasks run against it exactly as they run against a real API server; what Velero answers
 * (downloads, restores) is engine/cluster/velero.ts.
 */
import * as zlib from "node:zlib";

export type KubeObject = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- any JSON object

/** The API of components/tasks/kube.js, as the tasks call it. */
export interface KubeApi {
    get(path: string): Promise<KubeObject | undefined>;
    list(path: string, labelSelector?: string): Promise<KubeObject[]>;
    create(path: string, body: KubeObject): Promise<KubeObject>;
    remove(path: string): Promise<void>;
    mergePatch(path: string, patch: KubeObject): Promise<KubeObject>;
    fetch(url: string): Promise<Buffer>;
    sleep(ms: number): Promise<void>;
    now(): Date;
}

/** A resource's collection path and whether it is namespaced, by `group/version/resource`. */
interface ResourceKind {
    readonly prefix: string;
    readonly resource: string;
    readonly namespaced: boolean;
}

/** `apiVersion`+`kind` -> where the API serves it. */
const KINDS: Readonly<Record<string, ResourceKind>> = {
    "v1/PersistentVolumeClaim": { prefix: "/api/v1", resource: "persistentvolumeclaims", namespaced: true },
    "v1/PersistentVolume": { prefix: "/api/v1", resource: "persistentvolumes", namespaced: false },
    "v1/Secret": { prefix: "/api/v1", resource: "secrets", namespaced: true },
    "v1/ConfigMap": { prefix: "/api/v1", resource: "configmaps", namespaced: true },
    "v1/Namespace": { prefix: "/api/v1", resource: "namespaces", namespaced: false },
    "v1/ServiceAccount": { prefix: "/api/v1", resource: "serviceaccounts", namespaced: true },
    "v1/Pod": { prefix: "/api/v1", resource: "pods", namespaced: true },
    "v1/Node": { prefix: "/api/v1", resource: "nodes", namespaced: false },
    "v1/Endpoints": { prefix: "/api/v1", resource: "endpoints", namespaced: true },
    "networking.k8s.io/v1/NetworkPolicy": {
        prefix: "/apis/networking.k8s.io/v1",
        resource: "networkpolicies",
        namespaced: true,
    },
    "storage.k8s.io/v1/StorageClass": {
        prefix: "/apis/storage.k8s.io/v1",
        resource: "storageclasses",
        namespaced: false,
    },
    "storage.k8s.io/v1/CSIDriver": { prefix: "/apis/storage.k8s.io/v1", resource: "csidrivers", namespaced: false },
    "snapshot.storage.k8s.io/v1/VolumeSnapshotClass": {
        prefix: "/apis/snapshot.storage.k8s.io/v1",
        resource: "volumesnapshotclasses",
        namespaced: false,
    },
    "batch/v1/Job": { prefix: "/apis/batch/v1", resource: "jobs", namespaced: true },
    "velero.io/v1/Backup": { prefix: "/apis/velero.io/v1", resource: "backups", namespaced: true },
    "velero.io/v1/Restore": { prefix: "/apis/velero.io/v1", resource: "restores", namespaced: true },
    "velero.io/v1/Schedule": { prefix: "/apis/velero.io/v1", resource: "schedules", namespaced: true },
    "velero.io/v1/BackupStorageLocation": {
        prefix: "/apis/velero.io/v1",
        resource: "backupstoragelocations",
        namespaced: true,
    },
    "velero.io/v1/PodVolumeBackup": {
        prefix: "/apis/velero.io/v1",
        resource: "podvolumebackups",
        namespaced: true,
    },
    "velero.io/v1/PodVolumeRestore": {
        prefix: "/apis/velero.io/v1",
        resource: "podvolumerestores",
        namespaced: true,
    },
    "velero.io/v1/DownloadRequest": { prefix: "/apis/velero.io/v1", resource: "downloadrequests", namespaced: true },
    "velero.io/v2alpha1/DataDownload": {
        prefix: "/apis/velero.io/v2alpha1",
        resource: "datadownloads",
        namespaced: true,
    },
};

/** The API path of an object (`/api/v1/namespaces/ns/secrets/name`), or undefined for a kind the store does not serve. */
export function objectPath(o: KubeObject): string | undefined {
    const kind = KINDS[`${String(o.apiVersion)}/${String(o.kind)}`];
    const name = o.metadata?.name as string | undefined;
    if (kind === undefined || name === undefined) {
        return undefined;
    }
    const ns = kind.namespaced ? `/namespaces/${String(o.metadata?.namespace ?? "default")}` : "";
    return `${kind.prefix}${ns}/${kind.resource}/${name}`;
}

/** Whether a label set matches a selector: `a=b`, `a==b`, `a!=b`, `a`, `!a`, comma-separated (all must hold). */
export function matchesSelector(labels: Readonly<Record<string, string>>, selector: string | undefined): boolean {
    if (selector === undefined || selector.trim() === "") {
        return true;
    }
    return selector.split(",").every((term) => {
        const t = term.trim();
        let m: RegExpExecArray | null;
        if ((m = /^(.+?)!=(.*)$/.exec(t)) !== null) {
            return labels[m[1]] !== m[2];
        }
        if ((m = /^(.+?)==?(.*)$/.exec(t)) !== null) {
            return labels[m[1]] === m[2];
        }
        if (t.startsWith("!")) {
            return !(t.slice(1) in labels);
        }
        return t in labels;
    });
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
    if (patch === null || typeof patch !== "object" || Array.isArray(patch)) {
        return patch;
    }
    const out: Record<string, unknown> =
        target !== null && typeof target === "object" && !Array.isArray(target) ? { ...target } : {};
    for (const [k, v] of Object.entries(patch)) {
        if (v === null) {
            delete out[k];
        } else {
            out[k] = mergePatch(out[k], v);
        }
    }
    return out;
}

/** An API error with the status a real API server answers. */
export class SimulatedApiError extends Error {
    constructor(
        readonly status: number,
        message: string,
    ) {
        super(message);
    }
}

/** What a download URL serves; registered by whoever answers a DownloadRequest. */
export type Downloads = Map<string, () => Buffer>;

/** The objects of the simulated cluster, with a clock. */
export class ClusterStore implements KubeApi {
    private readonly objects = new Map<string, KubeObject>();
    private generated = 0;
    /** Hooks run on every create: e.g. Velero answering a DownloadRequest. */
    readonly onCreate: ((path: string, o: KubeObject) => void)[] = [];
    readonly downloads: Downloads = new Map();

    constructor(private clock: number) {}

    /** Puts an object in place as it is (setup and the program's own registrations). */
    put(o: KubeObject): KubeObject {
        const path = objectPath(o);
        if (path === undefined) {
            throw new Error(`the simulated cluster does not serve ${String(o.apiVersion)} ${String(o.kind)}`);
        }
        const stored = structuredClone(o);
        stored.metadata = { uid: `uid-${++this.generated}`, ...stored.metadata };
        this.objects.set(path, stored);
        return stored;
    }

    /** Every object, for analysis. */
    all(): KubeObject[] {
        return [...this.objects.values()];
    }

    async get(path: string): Promise<KubeObject | undefined> {
        await Promise.resolve();
        const o = this.objects.get(path.split("?")[0]);
        return o === undefined ? undefined : structuredClone(o);
    }

    async list(path: string, labelSelector?: string): Promise<KubeObject[]> {
        await Promise.resolve();
        // A collection path: /api/v1/persistentvolumeclaims (all namespaces) or /.../namespaces/ns/resource.
        const m = /^(\/apis?\/.+?)(?:\/namespaces\/([^/]+))?\/([^/]+)$/.exec(path);
        if (m === null) {
            throw new SimulatedApiError(404, `no collection at ${path}`);
        }
        const [, prefix, ns, resource] = m;
        return [...this.objects.entries()]
            .filter(([p]) => {
                const pm = /^(\/apis?\/.+?)(?:\/namespaces\/([^/]+))?\/([^/]+)\/[^/]+$/.exec(p);
                return pm !== null && pm[1] === prefix && pm[3] === resource && (ns === undefined || pm[2] === ns);
            })
            .map(([, o]) => o)
            .filter((o) => matchesSelector((o.metadata?.labels ?? {}) as Record<string, string>, labelSelector))
            .map((o) => structuredClone(o));
    }

    async create(path: string, body: KubeObject): Promise<KubeObject> {
        await Promise.resolve();
        const metadata = { ...(body.metadata ?? {}) } as Record<string, unknown>;
        if (metadata.name === undefined && typeof metadata.generateName === "string") {
            metadata.name = `${metadata.generateName}${(++this.generated).toString(36).padStart(5, "0")}`;
        }
        const o = { ...body, metadata };
        const full = `${path}/${String(metadata.name)}`;
        if (this.objects.has(full)) {
            throw new SimulatedApiError(409, `${full} already exists`);
        }
        const stored = this.put(o);
        for (const hook of this.onCreate) {
            hook(full, stored);
        }
        return structuredClone(this.objects.get(full)!);
    }

    async remove(path: string): Promise<void> {
        await Promise.resolve();
        this.objects.delete(path);
        // The namespace controller deletes what a deleted namespace held.
        const ns = /^\/api\/v1\/namespaces\/([^/]+)$/.exec(path)?.[1];
        for (const p of ns === undefined ? [] : [...this.objects.keys()]) {
            if (p.includes(`/namespaces/${ns}/`)) {
                this.objects.delete(p);
            }
        }
    }

    async mergePatch(path: string, patch: KubeObject): Promise<KubeObject> {
        await Promise.resolve();
        const o = this.objects.get(path);
        if (o === undefined) {
            throw new SimulatedApiError(404, `${path} not found`);
        }
        const patched = mergePatch(o, patch) as KubeObject;
        this.objects.set(path, patched);
        return structuredClone(patched);
    }

    /** Replaces an object's status (what a controller does). */
    setStatus(path: string, status: unknown): void {
        const o = this.objects.get(path);
        if (o !== undefined) {
            o.status = status;
        }
    }

    async fetch(url: string): Promise<Buffer> {
        await Promise.resolve();
        const serve = this.downloads.get(url);
        if (serve === undefined) {
            throw new Error(`GET ${url}: 404`);
        }
        return serve();
    }

    async sleep(ms: number): Promise<void> {
        this.clock += ms;
        await Promise.resolve();
    }

    now(): Date {
        return new Date(this.clock);
    }

    /** Moves the clock (the simulated run's minutes). */
    advanceTo(ms: number): void {
        this.clock = Math.max(this.clock, ms);
    }
}

/** Gzipped JSON, as Velero stores its metadata in the bucket. */
export const gzipJson = (value: unknown): Buffer => zlib.gzipSync(Buffer.from(JSON.stringify(value)));

/** A label selector's matchExpressions (In, NotIn, Exists, DoesNotExist) and matchLabels. */
export function matchesExpressions(
    labels: Readonly<Record<string, string>>,
    selector: { matchLabels?: Record<string, string>; matchExpressions?: KubeObject[] } | undefined,
): boolean {
    if (selector === undefined) {
        return true;
    }
    const byLabels = Object.entries(selector.matchLabels ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(",");
    return (
        matchesSelector(labels, byLabels) &&
        (selector.matchExpressions ?? []).every((e) => {
            const value = labels[String(e.key)];
            const values = (e.values ?? []) as string[];
            switch (e.operator) {
                case "In":
                    return value !== undefined && values.includes(value);
                case "NotIn":
                    return value === undefined || !values.includes(value);
                case "Exists":
                    return value !== undefined;
                case "DoesNotExist":
                    return value === undefined;
                default:
                    throw new Error(`unknown selector operator ${String(e.operator)}`);
            }
        })
    );
}
