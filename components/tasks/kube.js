// @ts-check
/**
 * The Kubernetes API as the in-cluster tasks use it: a few verbs over HTTPS with the pod's service-account token,
 * and downloads of what Velero keeps in the bucket through a DownloadRequest. Node built-ins only: the tasks run in
 * the pinned Node image with nothing installed (components/versions.ts `NODE_IMAGE`).
 *
 * The offline engine hands the tasks a simulated cluster with the same interface (engine/cluster/api.ts), so what a
 * task decides is proven by running it, not by reading it.
 */
"use strict";

const fs = require("node:fs");
const https = require("node:https");
const zlib = require("node:zlib");

const SERVICE_ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount";

/**
 * @typedef {Record<string, any>} KubeObject
 * @typedef {{ items: KubeObject[] }} KubeList
 * @typedef {object} KubeApi
 * @property {(path: string) => Promise<KubeObject | undefined>} get The object at `path`, or undefined on 404.
 * @property {(path: string, labelSelector?: string) => Promise<KubeObject[]>} list The items of a collection.
 * @property {(path: string, body: KubeObject) => Promise<KubeObject>} create Creates in a collection.
 * @property {(path: string) => Promise<void>} remove Deletes the object at `path` (404 is fine).
 * @property {(path: string, patch: KubeObject) => Promise<KubeObject>} mergePatch A JSON merge patch (RFC 7386).
 * @property {(url: string) => Promise<Buffer>} fetch The body of a URL outside the cluster (a presigned S3 URL).
 * @property {(ms: number) => Promise<void>} sleep Waits; the simulated cluster advances its clock instead.
 * @property {() => Date} now The cluster's time.
 */

/** An API error with its HTTP status. */
class ApiError extends Error {
    /**
     * @param {number} status
     * @param {string} message
     */
    constructor(status, message) {
        super(message);
        this.status = status;
    }
}

/**
 * One HTTPS request; JSON in and out.
 * @param {{ host: string, port: number, ca?: Buffer, token?: string }} target
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @param {string} [contentType]
 * @returns {Promise<{ status: number, body: Buffer }>}
 */
function request(target, method, path, body, contentType = "application/json") {
    return new Promise((resolve, reject) => {
        const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
        const req = https.request(
            {
                host: target.host,
                port: target.port,
                path,
                method,
                ca: target.ca,
                headers: {
                    Accept: "application/json",
                    ...(target.token === undefined ? {} : { Authorization: `Bearer ${target.token}` }),
                    ...(payload === undefined ? {} : { "Content-Type": contentType, "Content-Length": payload.length }),
                },
            },
            (res) => {
                /** @type {Buffer[]} */
                const chunks = [];
                res.on("data", (c) => chunks.push(c));
                res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
            },
        );
        req.on("error", reject);
        req.setTimeout(60000, () => req.destroy(new Error(`${method} ${path}: no answer in 60 s`)));
        if (payload !== undefined) {
            req.write(payload);
        }
        req.end();
    });
}

/**
 * The API of the cluster the pod runs in (KUBERNETES_SERVICE_HOST, the mounted token and CA). The token is read on
 * every request: the kubelet rotates projected tokens.
 * @returns {KubeApi}
 */
function inClusterApi() {
    const host = process.env.KUBERNETES_SERVICE_HOST ?? "kubernetes.default.svc";
    const port = Number(process.env.KUBERNETES_SERVICE_PORT ?? "443");
    const ca = fs.readFileSync(`${SERVICE_ACCOUNT}/ca.crt`);
    const target = () => ({ host, port, ca, token: fs.readFileSync(`${SERVICE_ACCOUNT}/token`, "utf8").trim() });
    /**
     * @param {string} method
     * @param {string} path
     * @param {unknown} [body]
     * @param {string} [contentType]
     */
    const call = async (method, path, body, contentType) => {
        const { status, body: raw } = await request(target(), method, path, body, contentType);
        const text = raw.toString("utf8");
        if (status >= 300) {
            let message = text;
            try {
                message = JSON.parse(text).message ?? text;
            } catch {
                // not JSON: keep the text
            }
            throw new ApiError(status, `${method} ${path}: ${status} ${message}`);
        }
        return text === "" ? {} : JSON.parse(text);
    };
    return {
        async get(path) {
            try {
                return await call("GET", path);
            } catch (e) {
                if (e instanceof ApiError && e.status === 404) {
                    return undefined;
                }
                throw e;
            }
        },
        async list(path, labelSelector) {
            const query = labelSelector === undefined ? "" : `?labelSelector=${encodeURIComponent(labelSelector)}`;
            return (await call("GET", `${path}${query}`)).items ?? [];
        },
        create: (path, body) => call("POST", path, body),
        async remove(path) {
            try {
                await call("DELETE", path);
            } catch (e) {
                if (!(e instanceof ApiError && e.status === 404)) {
                    throw e;
                }
            }
        },
        mergePatch: (path, patch) => call("PATCH", path, patch, "application/merge-patch+json"),
        fetch: (url) =>
            new Promise((resolve, reject) => {
                const req = https
                    .get(url, { timeout: 300000 }, (res) => {
                        /** @type {Buffer[]} */
                        const chunks = [];
                        res.on("data", (c) => chunks.push(c));
                        res.on("end", () =>
                            (res.statusCode ?? 0) < 300
                                ? resolve(Buffer.concat(chunks))
                                : reject(new Error(`GET ${url.split("?")[0]}: ${res.statusCode}`)),
                        );
                    })
                    .on("timeout", () => req.destroy(new Error(`GET ${url.split("?")[0]}: no answer in 300 s`)))
                    .on("error", reject);
            }),
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
        now: () => new Date(),
    };
}

/**
 * What Velero keeps in the bucket for a backup, through a DownloadRequest (velero
 * `pkg/apis/velero/v1/download_request_types.go`): Velero answers with a presigned URL valid for 10 minutes
 * (`pkg/controller/download_request_controller.go`), the object is gzipped.
 * @param {KubeApi} api
 * @param {string} namespace Velero's namespace.
 * @param {"BackupContents" | "BackupVolumeInfos" | "BackupResourceList" | "RestoreResults" | "RestoreResourceList"} kind
 * @param {string} backupName
 * @param {number} [timeoutMs]
 * @returns {Promise<Buffer>} the unzipped bytes
 */
async function download(api, namespace, kind, backupName, timeoutMs = 120000) {
    const created = await api.create(`/apis/velero.io/v1/namespaces/${namespace}/downloadrequests`, {
        apiVersion: "velero.io/v1",
        kind: "DownloadRequest",
        metadata: { generateName: `gitops-dr-${kind.toLowerCase()}-`, namespace },
        spec: { target: { kind, name: backupName } },
    });
    const path = `/apis/velero.io/v1/namespaces/${namespace}/downloadrequests/${created.metadata.name}`;
    const deadline = api.now().getTime() + timeoutMs;
    try {
        for (;;) {
            const request = await api.get(path);
            const url = request?.status?.downloadURL;
            if (request?.status?.phase === "Processed" && typeof url === "string" && url !== "") {
                return zlib.gunzipSync(await api.fetch(url));
            }
            if (api.now().getTime() > deadline) {
                throw new Error(
                    `Velero did not answer the ${kind} download of backup ${backupName} in ${timeoutMs / 1000} s: is the Velero server running? Read: kubectl -n ${namespace} logs deploy/velero`,
                );
            }
            await api.sleep(2000);
        }
    } finally {
        await api.remove(path);
    }
}

/**
 * The regular files of a tar archive, as Go's archive/tar writes Velero's backup contents: ustar headers, and PAX
 * extended headers (`x`) that carry the real path of a name longer than the ustar field (Go switches to PAX for a
 * name over 100 bytes); GNU long names (`L`) are read too. Any other entry kind is refused, so a file is never
 * dropped without a word.
 * @param {Buffer} tar
 * @returns {Map<string, Buffer>}
 */
function untar(tar) {
    const files = new Map();
    let offset = 0;
    /** @type {string | undefined} */
    let longName;
    /** @param {number} at @param {number} length */
    const field = (at, length) => tar.toString("utf8", offset + at, offset + at + length).replace(/\0.*$/s, "");
    while (offset + 512 <= tar.length) {
        const name = field(0, 100);
        if (name === "") {
            break;
        }
        const size = parseInt(field(124, 12).trim() || "0", 8);
        const type = field(156, 1);
        const prefix = field(345, 155);
        const body = tar.subarray(offset + 512, offset + 512 + size);
        if (type === "x") {
            // PAX records: "<length> <key>=<value>\n"; `path` replaces the next entry's name.
            for (const record of body.toString("utf8").split("\n")) {
                const m = /^\d+ path=(.*)$/.exec(record);
                if (m !== null) {
                    longName = m[1];
                }
            }
        } else if (type === "L") {
            longName = body.toString("utf8").replace(/\0.*$/s, "");
        } else if (type === "0" || type === "") {
            files.set(longName ?? (prefix === "" ? name : `${prefix}/${name}`), body);
            longName = undefined;
        } else if (type === "5" || type === "g") {
            // a directory, or global PAX attributes: nothing to read
            longName = undefined;
        } else {
            throw new Error(
                `backup archive entry ${name} has type ${JSON.stringify(type)}, which this reader does not know`,
            );
        }
        offset += 512 + Math.ceil(size / 512) * 512;
    }
    return files;
}

/**
 * The objects of one resource in a backup's contents, by `namespace/name` (cluster-scoped: `name`). Velero writes
 * `resources/<resource>/namespaces/<ns>/<name>.json` and, per API version, `resources/<resource>/<version>-
 * preferredversion/...` (velero `pkg/backup/item_collector.go`, `pkg/archive`); both are read, once each.
 * @param {Map<string, Buffer>} files
 * @param {string} resource e.g. `persistentvolumeclaims`
 * @returns {Map<string, KubeObject>}
 */
function backupObjects(files, resource) {
    const objects = new Map();
    const pattern = new RegExp(
        `^resources/${resource.replace(/\./g, "\\.")}/(?:[^/]+-preferredversion/)?(?:namespaces/([^/]+)|cluster)/([^/]+)\\.json$`,
    );
    for (const [path, data] of files) {
        const m = pattern.exec(path);
        if (m !== null) {
            const key = m[1] === undefined ? m[2] : `${m[1]}/${m[2]}`;
            if (!objects.has(key)) {
                objects.set(key, JSON.parse(data.toString("utf8")));
            }
        }
    }
    return objects;
}

/**
 * A task's last-run record (`last-run.json`, and `passed`), in the ConfigMap `name` of `namespace`: created, or
 * patched when it exists. Where to look without the Prometheus operator.
 * @param {KubeApi} api
 * @param {string} namespace
 * @param {string} name
 * @param {Record<string, unknown>} record
 */
async function writeRecord(api, namespace, name, record) {
    const path = `/api/v1/namespaces/${namespace}/configmaps`;
    const data = { "last-run.json": JSON.stringify(record, null, 2), passed: String(record.passed === true) };
    if ((await api.get(`${path}/${name}`)) === undefined) {
        await api.create(path, { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace }, data });
    } else {
        await api.mergePatch(`${path}/${name}`, { data });
    }
}

module.exports = { ApiError, backupObjects, download, inClusterApi, untar, writeRecord };
