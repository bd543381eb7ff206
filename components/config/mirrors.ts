/**
 * Parsing of the private mirrors: where the pinned charts come from (`veleroChart`, `argoCdChart`) and which
 * registry every image is pulled from (`imageRegistry`). A chart archive given as a path is opened and its
 * Chart.yaml checked here, so that a wrong or missing archive stops the run before any resource exists.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";

import { ChartPin, deployedImages, splitRepository } from "../mirrors";
import { ARGO_CD_CHART, VELERO_CHART } from "../versions";
import type { ConfigKey } from "./keys";
import { ConfigReader, q, setCmd } from "./reader";
import type { ChartSource, MirrorSettings } from "./types";

/**
 * Registries an `imageRegistry` must not name: the public ones the pinned images come from, Docker Hub under
 * all its names, and the other big public registries.
 */
export const PUBLIC_REGISTRIES: readonly string[] = [
    ...new Set([
        ...deployedImages().map((i) => splitRepository(i.upstream.repository).host),
        "docker.io",
        "index.docker.io",
        "registry-1.docker.io",
        "quay.io",
        "ghcr.io",
        "registry.k8s.io",
        "k8s.gcr.io",
        "gcr.io",
        "public.ecr.aws",
        "ecr-public.aws.com",
        "mcr.microsoft.com",
    ]),
];

/** A registry host: DNS labels (letters, digits, inner hyphens) joined by dots, then an optional port. */
const HOST =
    /^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::([0-9]{1,5}))?$/;
/** A repository path component (OCI distribution spec, `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`). */
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//;

/**
 * Whether `value` is `host[:port][/path...]` with a valid host, port and lowercase path components: what
 * every image reference can be prefixed with.
 */
function isRegistryLocation(value: string): boolean {
    const [host, ...components] = value.split("/");
    const m = HOST.exec(host);
    const port = m?.[1] === undefined ? undefined : Number(m[1]);
    return (
        m !== null &&
        (port === undefined || (port >= 1 && port <= 65535)) &&
        components.every((c) => PATH_COMPONENT.test(c))
    );
}

/** The mirror settings; every bad value is reported on `r`. `cwd` is where relative archive paths are read from. */
export function parseMirrors(r: ConfigReader, cwd: string = process.cwd()): MirrorSettings {
    return {
        veleroChart: parseChartSource(r, "veleroChart", VELERO_CHART, cwd),
        argoCdChart: parseChartSource(r, "argoCdChart", ARGO_CD_CHART, cwd),
        imageRegistry: parseImageRegistry(r),
    };
}

/** One chart's source; `{ kind: "public" }` when unset or when the value had a problem (reported). */
export function parseChartSource(
    r: ConfigReader,
    key: "veleroChart" | "argoCdChart",
    pin: ChartPin,
    cwd: string,
): ChartSource {
    const value = r.str(key);
    if (value === undefined) {
        return { kind: "public" };
    }
    const ociExample = setCmd(key, "oci://registry.acme.internal/charts");
    const archive = `${pin.name}-${pin.version}.tgz`;
    const archiveFix = `\`helm pull ${pin.name} --repo ${pin.repo} --version ${pin.version} -d charts\`, then \`${setCmd(key, `./charts/${archive}`)}\``;
    if (/\s/.test(value)) {
        r.problem(
            key,
            `${q(value)} contains whitespace. Fix: \`${setCmd(key, value.trim().replace(/\s+/g, "") || "oci://registry.acme.internal/charts")}\`.`,
        );
        return { kind: "public" };
    }
    const scheme = SCHEME.exec(value)?.[1].toLowerCase();
    switch (scheme) {
        case undefined:
            return parseArchive(r, key, pin, value, cwd, archiveFix);
        case "oci":
            return parseOci(r, key, pin, value, ociExample);
        case "https": {
            let url: URL | undefined;
            try {
                url = new URL(value);
            } catch {
                url = undefined;
            }
            if (url === undefined || url.hostname === "") {
                r.problem(
                    key,
                    `${q(value)} is not a valid https:// URL. Fix: \`${setCmd(key, "https://charts.acme.internal/helm")}\` (a Helm repository serving index.yaml) or \`${ociExample}\`.`,
                );
            } else if (url.username !== "" || url.password !== "") {
                r.problem(
                    key,
                    `${q(value)} holds credentials, which a plain config value would keep in clear text in Pulumi.${r.stack}.yaml. Fix: push the chart to an OCI registry and log in with \`helm registry login <host>\` on the machine that runs Pulumi, then \`${ociExample}\`; or use a local archive.`,
                );
            } else if (url.search !== "" || url.hash !== "") {
                r.problem(
                    key,
                    `${q(value)} has a query or fragment; Helm appends /index.yaml to a repository URL. Fix: \`${setCmd(key, `${url.origin}${url.pathname}`)}\`.`,
                );
            } else {
                return { kind: "https", url: value };
            }
            return { kind: "public" };
        }
        case "http":
            r.problem(
                key,
                `${q(value)} is plain HTTP: a chart fetched without TLS can be altered on the way, and it runs with cluster-admin rights. Fix: serve the mirror over https://, or \`${ociExample}\`.`,
            );
            return { kind: "public" };
        default:
            r.problem(
                key,
                `${q(value)} has the scheme ${scheme}://; ${key} takes oci://, https:// or the path of a .tgz chart archive. Fix: \`${ociExample}\`.`,
            );
            return { kind: "public" };
    }
}

function parseOci(r: ConfigReader, key: ConfigKey, pin: ChartPin, value: string, example: string): ChartSource {
    const location = value.slice("oci://".length);
    const components = location.split("/");
    const last = components[components.length - 1];
    if (location.includes("@")) {
        r.problem(
            key,
            `${q(value)} holds an @ (credentials or a digest): give the repository only, log in with \`helm registry login <host>\` on the machine that runs Pulumi, and the pinned version ${pin.version} is pulled. Fix: \`${example}\`.`,
        );
    } else if (location.endsWith("/")) {
        r.problem(
            key,
            `${q(value)} ends with "/"; the program appends /${pin.name} itself. Fix: \`${setCmd(key, value.replace(/\/+$/, ""))}\`.`,
        );
    } else if (components.length > 1 && /^[a-z0-9._-]+:[^/]*$/.test(last)) {
        const withoutTag = value.slice(0, value.length - last.length) + last.slice(0, last.indexOf(":"));
        r.problem(
            key,
            `${q(value)} names a tag; the version is always the pinned ${pin.version}, and the program appends /${pin.name}:${pin.version}. Fix: \`${setCmd(key, withoutTag.replace(new RegExp(`/${pin.name}$`), "") || "oci://registry.acme.internal/charts")}\`.`,
        );
    } else if (!isRegistryLocation(location)) {
        r.problem(
            key,
            `${q(value)} is not an OCI repository oci://<host>[:<port>][/<path>] (a registry host, then lowercase path components of letters, digits and . _ -). Fix: \`${example}\`.`,
        );
    } else {
        if (last === pin.name && components.length > 1) {
            // Legal, but usually a mistake: `helm push velero-12.1.0.tgz oci://host/charts` stores oci://host/charts/velero.
            r.warn(
                key,
                `${q(value)} ends in /${pin.name}, so the chart is pulled from ${value}/${pin.name}:${pin.version}. If you ran \`helm push ${pin.name}-${pin.version}.tgz ${value.slice(0, -pin.name.length - 1)}\`, set \`${setCmd(key, value.slice(0, -pin.name.length - 1))}\`.`,
            );
        }
        return { kind: "oci", url: value };
    }
    return { kind: "public" };
}

function parseArchive(
    r: ConfigReader,
    key: ConfigKey,
    pin: ChartPin,
    value: string,
    cwd: string,
    fix: string,
): ChartSource {
    if (!value.endsWith(".tgz")) {
        r.problem(
            key,
            `${q(value)} is neither an oci:// or https:// URL nor a .tgz chart archive (helm pull writes ${pin.name}-${pin.version}.tgz). Fix: ${fix}.`,
        );
        return { kind: "public" };
    }
    // The path stays as given in the Release's input: the Helm provider resolves it from its own working
    // directory, the project's, where the engine starts every plugin (pulumi sdk/go/common/resource/plugin/
    // plugin.go, `cmd.Dir = pwd`) and where the program runs; so a relative path reads the same file here.
    const file = path.resolve(cwd, value);
    if (!fs.existsSync(file) || !fs.statSync(file).isFile()) {
        r.problem(
            key,
            `${q(value)} is not a file (${file}; a relative path is read from the project directory, where Pulumi runs the program and the Helm provider). Fix: ${fix}.`,
        );
        return { kind: "public" };
    }
    let chart: { name: string; version: string };
    try {
        chart = chartArchiveMetadata(file);
    } catch (e) {
        r.problem(
            key,
            `${q(value)} is not a Helm chart archive: ${e instanceof Error ? e.message : String(e)}. Fix: ${fix}.`,
        );
        return { kind: "public" };
    }
    if (chart.name !== pin.name || chart.version !== pin.version) {
        // A local chart is loaded as it is: the provider does not compare it with the Release's version.
        r.problem(
            key,
            `${q(value)} holds the chart ${chart.name} ${chart.version}, not the pinned ${pin.name} ${pin.version} (components/versions.ts), which gitops-dr's values are written for. Fix: ${fix}.`,
        );
        return { kind: "public" };
    }
    return { kind: "archive", path: value };
}

/**
 * The name and version in a packaged chart's `<chart>/Chart.yaml`. A `.tgz` is a gzip-compressed tar (ustar,
 * with GNU or PAX long names), read here without a tar library. Helm writes Chart.yaml into the archive by
 * marshalling the chart's metadata (helm `pkg/chart/v2/util/save.go`), so `name:` and `version:` are top-level
 * plain scalars, which a line match reads. Throws with the reason when the file is not such an archive.
 */
export function chartArchiveMetadata(file: string): { name: string; version: string } {
    let data: Buffer;
    try {
        data = zlib.gunzipSync(fs.readFileSync(file), { maxOutputLength: 512 * 1024 * 1024 });
    } catch (e) {
        throw new Error(`it is not gzip-compressed (${e instanceof Error ? e.message : String(e)})`);
    }
    const text = (b: Buffer) => b.toString("utf8").replace(/\0[\s\S]*$/, "");
    let offset = 0;
    let longName: string | undefined;
    while (offset + 512 <= data.length) {
        const header = data.subarray(offset, offset + 512);
        if (header.every((b) => b === 0)) {
            break;
        }
        const size = parseInt(text(header.subarray(124, 136)).trim() || "0", 8);
        if (!Number.isSafeInteger(size) || size < 0) {
            throw new Error(`a tar header at byte ${offset} is corrupt`);
        }
        const type = text(header.subarray(156, 157));
        const prefix = text(header.subarray(257, 262)) === "ustar" ? text(header.subarray(345, 500)) : "";
        const name =
            longName ?? (prefix === "" ? text(header.subarray(0, 100)) : `${prefix}/${text(header.subarray(0, 100))}`);
        longName = undefined;
        const body = data.subarray(offset + 512, offset + 512 + size);
        offset += 512 + Math.ceil(size / 512) * 512;
        if (type === "L") {
            longName = text(body);
        } else if (type === "x") {
            longName = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString("utf8"))?.[1];
        } else if ((type === "0" || type === "") && /^(?:\.\/)?[^/]+\/Chart\.yaml$/.test(name)) {
            const yaml = body.toString("utf8");
            const top = (key: string) =>
                new RegExp(`^${key}:[ \\t]*["']?([^"'\\s#]+)["']?[ \\t]*(?:#.*)?$`, "m").exec(yaml)?.[1];
            const chartName = top("name");
            const version = top("version");
            if (chartName === undefined || version === undefined) {
                throw new Error(`its ${name} has no top-level name and version`);
            }
            return { name: chartName, version };
        }
    }
    throw new Error("it holds no <chart>/Chart.yaml");
}

/** `imageRegistry`; undefined when unset or when it had a problem (reported). */
export function parseImageRegistry(r: ConfigReader): string | undefined {
    const value = r.str("imageRegistry");
    if (value === undefined) {
        return undefined;
    }
    const cleaned = value.trim().replace(SCHEME, "").replace(/\/+$/, "");
    const fix = `Fix: \`${setCmd("imageRegistry", isRegistryLocation(cleaned) && /[.:]|^localhost(\/|$)/.test(cleaned.split("/")[0]) ? cleaned : "registry.acme.internal")}\`.`;
    const example = deployedImages({ imageRegistry: value })[0];
    const host = value.split("/")[0];
    if (SCHEME.test(value)) {
        r.problem(
            "imageRegistry",
            `${q(value)} has a scheme; an image reference names its registry without one (${example.upstream.repository}, not https://...). ${fix}`,
        );
    } else if (value.endsWith("/")) {
        r.problem(
            "imageRegistry",
            `${q(value)} ends with "/"; the program appends /<repository path> itself, which would make ${q(example.deployed.repository)}. ${fix}`,
        );
    } else if (
        value.includes("@") ||
        /:[^/]*\//.test(value.slice(host.length)) ||
        /:[^/]*$/.test(value.slice(host.length))
    ) {
        r.problem(
            "imageRegistry",
            `${q(value)} names a tag or digest; imageRegistry is the registry (and path) each image's repository path is appended to, and every image keeps its pinned tag. ${fix}`,
        );
    } else if (!isRegistryLocation(value)) {
        r.problem(
            "imageRegistry",
            `${q(value)} is not a registry location host[:port][/path] (a host name, an optional port up to 65535, then lowercase path components of letters, digits and . _ -). ${fix}`,
        );
    } else if (!/[.:]/.test(host) && host !== "localhost") {
        r.problem(
            "imageRegistry",
            `${q(value)} has no dot or port in its first component, so container runtimes would read it as a Docker Hub namespace and pull ${splitRepository(example.deployed.repository).host}/${splitRepository(example.deployed.repository).path} (distribution reference, splitDockerDomain). ${fix}`,
        );
    } else if (PUBLIC_REGISTRIES.includes(host.toLowerCase())) {
        r.problem(
            "imageRegistry",
            `${q(value)} is a public registry; imageRegistry is a private mirror holding copies of the pinned images (docs/mirrors.md). Fix: \`${setCmd("imageRegistry", "registry.acme.internal")}\`.`,
        );
    } else {
        return value;
    }
    return undefined;
}
