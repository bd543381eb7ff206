/**
 * Private mirrors (components/mirrors.ts, components/config/mirrors.ts): a stack configured with them must
 * reference no public endpoint at all, keep every pinned tag, and cover every image the pinned charts deploy
 * with gitops-dr's values; each config rule reports its exact message; docs/mirrors.md lists exactly the
 * commands that fill a mirror.
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { parse as parseYaml } from "yaml";

import {
    ConfigError,
    ConfigProblem,
    ConfigWarning,
    RawConfig,
    parseConfigWithWarnings,
    chartArchiveMetadata,
} from "../components/config";
import {
    DOCKER_HUB,
    deployedImages,
    chartMirrorCommands,
    imageMirrorCommands,
    imageReference,
    mirrorImage,
    mirroredRepository,
    pinnedChart,
    releaseChart,
    splitRepository,
} from "../components/mirrors";
import {
    ARGO_CD_CHART,
    ARGO_CD_IMAGE,
    DEX_IMAGE,
    KUBECTL_IMAGE,
    REDIS_IMAGE,
    VELERO_AWS_PLUGIN,
    VELERO_CHART,
    VELERO_IMAGE,
} from "../components/versions";
import { readStackFile } from "../engine";
import { ConfigInput, ProgramRun, RegisteredResource, RunOptions, runProgram } from "../engine";
import { plain, PROTECT_RAW, STACK_REFERENCES, STACK_SECRETS } from "./fixtures";
import { needReference, readReference } from "./reference";

const ROOT = path.resolve(__dirname, "..");
const RELEASE = "kubernetes:helm.sh/v3:Release";

const MIRROR_HOST = "mirror.acme.internal";
const MIRRORS = {
    veleroChart: `oci://${MIRROR_HOST}/charts`,
    argoCdChart: `oci://${MIRROR_HOST}/charts`,
    imageRegistry: MIRROR_HOST,
} as const satisfies Record<string, ConfigInput>;

type Json = Record<string, unknown>;
const isMap = (v: unknown): v is Json => v !== null && typeof v === "object" && !Array.isArray(v);

// --- Finding public endpoints in what a stack registers --------------------------------------------------

/** Public registries and chart repository hosts, whatever the pins say (a host inside any string). */
const PUBLIC_HOST =
    /(?<![a-z0-9.-])(?:docker\.io|quay\.io|ghcr\.io|registry\.k8s\.io|k8s\.gcr\.io|gcr\.io|public\.ecr\.aws|ecr-public\.aws\.com|[a-z0-9-]+\.github\.io|raw\.githubusercontent\.com)(?![a-z0-9-])/gi;
const URL_PATTERN = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'`<>]*/gi;

interface Finding {
    readonly resource: string;
    readonly path: string;
    readonly endpoint: string;
}

/**
 * Every public endpoint in a string: a public registry or chart host anywhere in it, and any URL except the
 * user's own git repository and vault buckets (`s3://`, named in KMS key descriptions), the in-cluster API
 * server (Argo CD's destination) and the mirror. AWS ARNs hold no URL and no public registry host.
 */
function endpointsIn(value: string, own: { readonly gitRepoUrl: string; readonly bucketName: string }): string[] {
    const found: string[] = [];
    for (const [url] of value.matchAll(URL_PATTERN)) {
        const host = url
            .replace(/^[^:]+:\/\//, "")
            .split(/[/?#]/)[0]
            .replace(/^.*@/, "")
            .toLowerCase();
        const ownBucket = url.startsWith("s3://") && host.startsWith(own.bucketName);
        if (
            !url.startsWith(own.gitRepoUrl) &&
            !ownBucket &&
            host !== "kubernetes.default.svc" &&
            host !== MIRROR_HOST
        ) {
            found.push(url);
        }
    }
    for (const [host] of value.matchAll(PUBLIC_HOST)) {
        found.push(host);
    }
    return found;
}

/** Walks every string in every registered resource's inputs. */
function publicEndpoints(run: ProgramRun): Finding[] {
    const own = { gitRepoUrl: run.config["gitops-dr:gitRepoUrl"], bucketName: run.outputs.bucketName };
    assert.ok(
        typeof own.gitRepoUrl === "string" &&
            own.gitRepoUrl !== "" &&
            typeof own.bucketName === "string" &&
            own.bucketName !== "",
    );
    const findings: Finding[] = [];
    const walk = (resource: RegisteredResource, value: unknown, at: string): void => {
        if (typeof value === "string") {
            findings.push(
                ...endpointsIn(value, own as { gitRepoUrl: string; bucketName: string }).map((endpoint) => ({
                    resource: resource.name,
                    path: at,
                    endpoint,
                })),
            );
        } else if (Array.isArray(value)) {
            value.forEach((v, i) => walk(resource, v, `${at}[${i}]`));
        } else if (isMap(value)) {
            for (const [k, v] of Object.entries(value)) {
                walk(resource, v, at === "" ? k : `${at}.${k}`);
            }
        }
    };
    for (const r of run.resources) {
        walk(r, r.inputs, "");
    }
    return findings;
}

/**
 * Every image reference in the registered inputs: a string under a key `image`, and `{ repository, tag }`
 * (with an optional `digest`) under a key ending in `image`/`Image`, as both charts take them.
 */
function registeredImages(run: ProgramRun): Set<string> {
    const refs = new Set<string>();
    const walk = (value: unknown, key: string): void => {
        if (typeof value === "string" && key === "image") {
            refs.add(value);
        } else if (Array.isArray(value)) {
            value.forEach((v) => walk(v, key));
        } else if (isMap(value)) {
            if (/image$/i.test(key) && typeof value.repository === "string" && typeof value.tag === "string") {
                refs.add(
                    `${value.repository}:${value.tag}${typeof value.digest === "string" ? `@${value.digest}` : ""}`,
                );
            }
            for (const [k, v] of Object.entries(value)) {
                walk(v, k);
            }
        }
    };
    for (const r of run.resources) {
        walk(r.inputs, "");
    }
    return refs;
}

/** The release of a pinned chart, by its component (GitopsDr names them `<stack>-velero` and `<stack>-argocd`). */
const releaseOf = (run: ProgramRun, chart: string) => {
    const component = chart === VELERO_CHART.name ? "velero" : "argocd";
    const found = run.ofType(RELEASE).filter((r) => r.name.endsWith(`-${component}-release`));
    assert.equal(found.length, 1, `one ${chart} release`);
    return found[0];
};

// --- The stacks ----------------------------------------------------------------------------------------------

const RECOVER_EXAMPLE = readStackFile(
    fs.readFileSync(path.join(ROOT, "examples", "Pulumi.recover.yaml"), "utf8"),
    "gitops-dr",
);

const STACKS: Readonly<Record<string, RunOptions>> = {
    prod: { stack: "prod", secrets: STACK_SECRETS },
    drill: { stack: "drill", secrets: STACK_SECRETS, stackReferences: STACK_REFERENCES },
    "recover example": {
        stack: "recover",
        stackValues: RECOVER_EXAMPLE,
        secrets: STACK_SECRETS,
        stackReferences: STACK_REFERENCES,
    },
};

describe("mirrors: a mirrored stack references no public endpoint", () => {
    const mirrored = new Map<string, ProgramRun>();
    const public_ = new Map<string, ProgramRun>();
    before(async () => {
        for (const [name, options] of Object.entries(STACKS)) {
            mirrored.set(name, await runProgram({ ...options, config: { ...options.config, ...MIRRORS } }));
            public_.set(name, await runProgram(options));
        }
    });

    for (const name of Object.keys(STACKS)) {
        it(`${name}: no registered input names a public registry, chart repository or URL`, () => {
            const findings = publicEndpoints(mirrored.get(name)!);
            assert.deepEqual(findings, [], findings.map((f) => `${f.resource} ${f.path}: ${f.endpoint}`).join("\n"));
        });

        it(`${name}: without the mirrors, the same walk finds every public chart repository and registry`, () => {
            const endpoints = new Set(publicEndpoints(public_.get(name)!).map((f) => f.endpoint));
            for (const chart of [VELERO_CHART, ARGO_CD_CHART]) {
                assert.ok(endpoints.has(chart.repo), `${chart.repo} not found in ${[...endpoints].join(", ")}`);
            }
            for (const image of deployedImages()) {
                assert.ok(
                    endpoints.has(splitRepository(image.upstream.repository).host),
                    `${image.upstream.repository} not found`,
                );
            }
        });

        it(`${name}: every image is the mirror's copy of a pinned image, with the pinned tag, and deployedImages lists exactly them`, () => {
            const refs = registeredImages(mirrored.get(name)!);
            const mode = mirrored.get(name)!.outputs.mode as "protect" | "recover" | "drill";
            const expected = deployedImages({ imageRegistry: MIRROR_HOST })
                .filter((i) => i.modes.includes(mode))
                .map((i) => imageReference(i.deployed));
            assert.deepEqual([...refs].sort(), [...expected].sort());
            for (const ref of refs) {
                assert.ok(ref.startsWith(`${MIRROR_HOST}/`), ref);
            }
            // Without the mirror: the same images, from their public registries.
            assert.deepEqual(
                [...registeredImages(public_.get(name)!)].sort(),
                deployedImages()
                    .filter((i) => i.modes.includes(mode))
                    .map((i) => imageReference(i.upstream))
                    .sort(),
            );
        });

        it(`${name}: both charts come from the OCI mirror at the pinned versions`, () => {
            const run = mirrored.get(name)!;
            for (const pin of [VELERO_CHART, ARGO_CD_CHART]) {
                const release = releaseOf(run, pin.name);
                assert.equal(release.inputs.chart, `oci://${MIRROR_HOST}/charts/${pin.name}`);
                assert.equal(release.inputs.version, pin.version);
                assert.equal(release.inputs.repositoryOpts, undefined);
            }
        });
    }

    it("keeps the pinned tags: the mirror's path is the public one without its host", () => {
        const refs = registeredImages(mirrored.get("drill")!);
        for (const [pin, mirroredPath] of [
            [VELERO_IMAGE, "velero/velero"],
            [{ repository: VELERO_AWS_PLUGIN.repository, tag: VELERO_AWS_PLUGIN.tag }, "velero/velero-plugin-for-aws"],
            [ARGO_CD_IMAGE, "argoproj/argocd"],
            [DEX_IMAGE, "dexidp/dex"],
            [REDIS_IMAGE, "docker/library/redis"],
            [KUBECTL_IMAGE, "kubectl"],
        ] as const) {
            assert.ok(
                refs.has(`${MIRROR_HOST}/${mirroredPath}:${pin.tag}`),
                `${pin.repository}:${pin.tag} as ${MIRROR_HOST}/${mirroredPath}:${pin.tag}`,
            );
        }
    });

    it("a configured awsPluginVersion is what the mirror must hold", async () => {
        const run = await runProgram({ ...STACKS.prod, config: { ...MIRRORS, awsPluginVersion: "v1.14.0" } });
        const expected = deployedImages({ imageRegistry: MIRROR_HOST, awsPluginVersion: "v1.14.0" })
            .filter((i) => i.modes.includes("protect"))
            .map((i) => imageReference(i.deployed));
        assert.ok(expected.includes(`${MIRROR_HOST}/velero/velero-plugin-for-aws:v1.14.0`));
        assert.deepEqual([...registeredImages(run)].sort(), expected.sort());
    });

    it("a local archive is installed from its path, with no repository", async () => {
        const archive = chartArchive("velero", VELERO_CHART.version);
        const run = await runProgram({ ...STACKS.prod, config: { veleroChart: archive } });
        const release = releaseOf(run, VELERO_CHART.name);
        assert.equal(release.inputs.chart, archive);
        assert.equal(release.inputs.version, VELERO_CHART.version);
        assert.equal(release.inputs.repositoryOpts, undefined);
        // The other chart is untouched.
        assert.deepEqual(releaseOf(run, ARGO_CD_CHART.name).inputs.repositoryOpts, { repo: ARGO_CD_CHART.repo });
    });

    it("an HTTPS chart mirror is the release's repository", async () => {
        const run = await runProgram({ ...STACKS.prod, config: { argoCdChart: "https://charts.acme.internal/argo" } });
        const release = releaseOf(run, ARGO_CD_CHART.name);
        assert.equal(release.inputs.chart, ARGO_CD_CHART.name);
        assert.equal(release.inputs.version, ARGO_CD_CHART.version);
        assert.deepEqual(release.inputs.repositoryOpts, { repo: "https://charts.acme.internal/argo" });
    });
});

// --- The charts deploy no image the values do not set ----------------------------------------------------------

/** Helm's coalescing of chart defaults with release values: maps merge, anything else replaces. */
function coalesce(defaults: unknown, values: unknown): unknown {
    if (!isMap(defaults) || !isMap(values)) {
        return values === undefined ? defaults : values;
    }
    const out: Json = { ...defaults };
    for (const [k, v] of Object.entries(values)) {
        out[k] = coalesce(defaults[k], v);
    }
    return out;
}

const at = (values: unknown, keys: readonly string[]): unknown =>
    keys.reduce<unknown>((node, k) => (isMap(node) ? node[k] : undefined), values);

interface ChartImage {
    readonly path: string;
    /** The values path whose `enabled: false` (once gitops-dr's values are applied) turns the image off. */
    readonly disabledBy?: string;
    /** The image the chart renders, as its templates do (`<repository>:<tag>`, empty ones from global.image). */
    readonly reference: string;
}

/**
 * Every image a chart's values.yaml declares: a map with a `repository` under a key ending in `image` or
 * `Image`, or a string under a key `image` (redis-ha's exporter). Empty repositories and tags fall back to
 * `global.image` (argo-cd chart: "defaults to global.image.repository") or the chart's appVersion.
 */
function chartImages(defaults: Json, values: Json, appVersion: string): ChartImage[] {
    const merged = coalesce(defaults, values);
    const images: ChartImage[] = [];
    const disabledBy = (keys: readonly string[]) => {
        const i = keys.findIndex((_, n) => at(merged, [...keys.slice(0, n + 1), "enabled"]) === false);
        return i < 0 ? undefined : keys.slice(0, i + 1).join(".");
    };
    const visit = (node: unknown, keys: string[]): void => {
        if (!isMap(node)) {
            return;
        }
        for (const [k, v] of Object.entries(node)) {
            const here = [...keys, k];
            if (isMap(v) && typeof v.repository === "string" && /image$/i.test(k)) {
                const own = at(merged, here) as Json;
                const repository = (own.repository as string) || String(at(merged, ["global", "image", "repository"]));
                const tag =
                    (typeof own.tag === "string" && own.tag) ||
                    (at(merged, ["global", "image", "tag"]) as string | undefined) ||
                    appVersion;
                images.push({ path: here.join("."), disabledBy: disabledBy(here), reference: `${repository}:${tag}` });
            } else if (typeof v === "string" && k === "image" && v.includes("/")) {
                images.push({
                    path: here.join("."),
                    disabledBy: disabledBy(here),
                    reference: `${String(at(merged, here))}:${String(at(merged, [...keys, "tag"]))}`,
                });
            }
            visit(v, here);
        }
    };
    visit(defaults, []);
    return images;
}

describe("mirrors: the pinned charts deploy no image that is not mirrored", () => {
    let run: ProgramRun;
    before(async function () {
        needReference(this, "the chart-image mirror tests", [
            [`argo-cd-chart-${ARGO_CD_CHART.version}`, "values.yaml"],
            [`argo-cd-chart-${ARGO_CD_CHART.version}`, "Chart.yaml"],
            [`velero-chart-${VELERO_CHART.version}`, "values.yaml"],
            [`velero-chart-${VELERO_CHART.version}`, "Chart.yaml"],
        ]);
        run = await runProgram({ ...STACKS.drill, config: MIRRORS });
    });
    const mirroredRefs = () =>
        new Set(deployedImages({ imageRegistry: MIRROR_HOST }).map((i) => imageReference(i.deployed)));

    it("argo-cd: Dex, off by default, runs the mirror's pinned image when argoCdValues turns it on", async () => {
        const withDex = await runProgram({
            ...STACKS.drill,
            config: { ...MIRRORS, argoCdValues: JSON.stringify({ dex: { enabled: true } }) },
        });
        const dir = `argo-cd-chart-${ARGO_CD_CHART.version}`;
        const defaults = parseYaml(readReference(dir, "values.yaml")) as Json;
        const appVersion = (parseYaml(readReference(dir, "Chart.yaml")) as { appVersion: string }).appVersion;
        const off = chartImages(defaults, releaseOf(run, ARGO_CD_CHART.name).inputs.values as Json, appVersion);
        assert.ok(off.filter((i) => i.path.startsWith("dex.")).every((i) => i.disabledBy !== undefined));
        const on = chartImages(defaults, releaseOf(withDex, ARGO_CD_CHART.name).inputs.values as Json, appVersion);
        const dex = on.filter((i) => i.path.startsWith("dex.") && i.disabledBy === undefined);
        assert.deepEqual(dex.map((i) => i.path).sort(), ["dex.image", "dex.initImage"]);
        const refs = mirroredRefs();
        assert.deepEqual(
            dex.filter((i) => !refs.has(i.reference)),
            [],
        );
    });

    for (const [pin, dir, mustCover] of [
        [VELERO_CHART, `velero-chart-${VELERO_CHART.version}`, ["image", "kubectl.image"]],
        [
            ARGO_CD_CHART,
            `argo-cd-chart-${ARGO_CD_CHART.version}`,
            [
                "global.image",
                "redis.image",
                "redisSecretInit.image",
                "controller.image",
                "repoServer.image",
                "server.image",
            ],
        ],
    ] as const) {
        it(`${pin.name} ${pin.version}: every image its values.yaml declares is disabled or the mirror's copy of a pinned image`, () => {
            const defaults = parseYaml(readReference(dir, "values.yaml")) as Json;
            const chart = parseYaml(readReference(dir, "Chart.yaml")) as {
                name: string;
                version: string;
                appVersion: string;
            };
            assert.deepEqual([chart.name, chart.version], [pin.name, pin.version]);
            const values = releaseOf(run, pin.name).inputs.values as Json;
            const images = chartImages(defaults, values, chart.appVersion);
            const enabled = images.filter((i) => i.disabledBy === undefined);
            for (const p of mustCover) {
                assert.ok(
                    enabled.some((i) => i.path === p),
                    `${p} not found among ${enabled.map((i) => i.path).join(", ")}`,
                );
            }
            const refs = mirroredRefs();
            const unmirrored = enabled.filter((i) => !refs.has(i.reference));
            assert.deepEqual(unmirrored, [], unmirrored.map((i) => `${i.path}: ${i.reference}`).join("\n"));
        });
    }

    it("argo-cd: the images left public are exactly those of components gitops-dr leaves off", () => {
        const defaults = parseYaml(readReference(`argo-cd-chart-${ARGO_CD_CHART.version}`, "values.yaml")) as Json;
        const values = releaseOf(run, ARGO_CD_CHART.name).inputs.values as Json;
        const off = chartImages(defaults, values, "").filter(
            (i) => i.disabledBy !== undefined && !i.reference.startsWith(`${MIRROR_HOST}/`),
        );
        // Each is off in the chart's defaults, and gitops-dr's values do not touch the switch.
        for (const image of off) {
            const toggle = [...image.disabledBy!.split("."), "enabled"];
            assert.equal(at(defaults, toggle), false, image.path);
            assert.equal(at(values, toggle), undefined, image.path);
        }
        assert.deepEqual([...new Set(off.map((i) => i.disabledBy))].sort(), [
            "redis-ha",
            "redis.exporter",
            "server.extensions",
        ]);
    });

    it("the pins of the charts' own images are the charts' defaults", () => {
        const argo = parseYaml(readReference(`argo-cd-chart-${ARGO_CD_CHART.version}`, "values.yaml")) as Json;
        const velero = parseYaml(readReference(`velero-chart-${VELERO_CHART.version}`, "values.yaml")) as Json;
        assert.deepEqual(at(argo, ["dex", "image", "repository"]), DEX_IMAGE.repository);
        assert.deepEqual(at(argo, ["dex", "image", "tag"]), DEX_IMAGE.tag);
        assert.deepEqual(at(argo, ["redis", "image", "repository"]), REDIS_IMAGE.repository);
        assert.deepEqual(at(argo, ["redis", "image", "tag"]), REDIS_IMAGE.tag);
        assert.deepEqual(at(argo, ["global", "image", "repository"]), ARGO_CD_IMAGE.repository);
        assert.deepEqual(at(velero, ["image"]), {
            repository: VELERO_IMAGE.repository,
            tag: VELERO_IMAGE.tag,
            pullPolicy: "IfNotPresent",
            imagePullSecrets: [],
        });
        assert.deepEqual(at(velero, ["kubectl", "image", "repository"]), KUBECTL_IMAGE.repository);
        // The chart's documented kubectl tag, commented out in values.yaml.
        assert.match(
            readReference(`velero-chart-${VELERO_CHART.version}`, "values.yaml"),
            new RegExp(`# tag: ${KUBECTL_IMAGE.tag.replace(/\./g, "\\.")}\\n`),
        );
    });
});

// --- Pure functions ------------------------------------------------------------------------------------------

describe("mirrors: image references and chart sources", () => {
    it("splits a repository into registry host and path as container runtimes do", () => {
        assert.deepEqual(splitRepository("docker.io/velero/velero"), { host: DOCKER_HUB, path: "velero/velero" });
        assert.deepEqual(splitRepository("index.docker.io/library/redis"), { host: DOCKER_HUB, path: "library/redis" });
        assert.deepEqual(splitRepository("velero/velero"), { host: DOCKER_HUB, path: "velero/velero" });
        assert.deepEqual(splitRepository("redis"), { host: DOCKER_HUB, path: "library/redis" });
        assert.deepEqual(splitRepository("docker.io/redis"), { host: DOCKER_HUB, path: "library/redis" });
        assert.deepEqual(splitRepository("localhost/a"), { host: "localhost", path: "a" });
        assert.deepEqual(splitRepository("mirror:5000/a/b"), { host: "mirror:5000", path: "a/b" });
        assert.deepEqual(splitRepository("registry.k8s.io/kubectl"), { host: "registry.k8s.io", path: "kubectl" });
        assert.deepEqual(splitRepository("ecr-public.aws.com/docker/library/redis"), {
            host: "ecr-public.aws.com",
            path: "docker/library/redis",
        });
    });

    it("moves a repository to the mirror, keeping tag and digest", () => {
        assert.equal(
            mirroredRepository("quay.io/argoproj/argocd", "registry.acme.internal:5000/gitops-dr"),
            "registry.acme.internal:5000/gitops-dr/argoproj/argocd",
        );
        assert.equal(mirroredRepository("quay.io/argoproj/argocd"), "quay.io/argoproj/argocd");
        const digest = `sha256:${"a".repeat(64)}`;
        const pin = { repository: "registry.k8s.io/kubectl", tag: "v1.34.5", digest };
        assert.deepEqual(mirrorImage(pin, MIRROR_HOST), {
            repository: `${MIRROR_HOST}/kubectl`,
            tag: "v1.34.5",
            digest,
        });
        assert.equal(imageReference(mirrorImage(pin, MIRROR_HOST)), `${MIRROR_HOST}/kubectl:v1.34.5@${digest}`);
        assert.equal(imageReference(KUBECTL_IMAGE), "registry.k8s.io/kubectl:v1.34.5");
    });

    it("gives every mirrored image its own repository", () => {
        const repos = deployedImages({ imageRegistry: MIRROR_HOST }).map((i) => i.deployed.repository);
        assert.equal(new Set(repos).size, repos.length, repos.join(", "));
    });

    it("builds the Release's chart inputs for each source", () => {
        assert.deepEqual(releaseChart(VELERO_CHART), {
            chart: "velero",
            version: VELERO_CHART.version,
            repositoryOpts: { repo: VELERO_CHART.repo },
        });
        assert.deepEqual(releaseChart(VELERO_CHART, { kind: "oci", url: "oci://r.acme.internal/charts" }), {
            chart: "oci://r.acme.internal/charts/velero",
            version: VELERO_CHART.version,
        });
        assert.deepEqual(releaseChart(ARGO_CD_CHART, { kind: "https", url: "https://c.acme.internal" }), {
            chart: "argo-cd",
            version: ARGO_CD_CHART.version,
            repositoryOpts: { repo: "https://c.acme.internal" },
        });
        assert.deepEqual(releaseChart(ARGO_CD_CHART, { kind: "archive", path: "./charts/argo-cd-10.1.1.tgz" }), {
            chart: "./charts/argo-cd-10.1.1.tgz",
            version: ARGO_CD_CHART.version,
        });
    });

    it("maps a Release's chart input back to its pin", () => {
        for (const pin of [VELERO_CHART, ARGO_CD_CHART]) {
            for (const source of [
                { kind: "public" },
                { kind: "https", url: "https://c.acme.internal" },
                { kind: "oci", url: "oci://r.acme.internal/charts" },
                { kind: "archive", path: `./charts/${pin.name}-${pin.version}.tgz` },
            ] as const) {
                assert.equal(pinnedChart(releaseChart(pin, source).chart), pin, `${pin.name} from ${source.kind}`);
            }
        }
        assert.equal(pinnedChart("oci://r.acme.internal/velero/other"), undefined);
        assert.equal(pinnedChart("./charts/velero-12.0.3.tgz"), undefined);
        assert.equal(pinnedChart("nginx"), undefined);
    });
});

describe("mirrors: docs/mirrors.md", () => {
    let doc = "";
    before(() => {
        doc = fs.readFileSync(path.join(ROOT, "docs", "mirrors.md"), "utf8");
    });
    const block = (commands: string) => `\`\`\`sh\n${commands}\`\`\``;

    it("lists exactly the chart commands chartMirrorCommands prints", () => {
        const commands = chartMirrorCommands("$REGISTRY/charts");
        assert.ok(doc.includes(block(commands)), `docs/mirrors.md lacks:\n${commands}`);
    });

    for (const tool of ["crane", "skopeo"] as const) {
        it(`lists exactly the ${tool} commands imageMirrorCommands prints`, () => {
            const commands = imageMirrorCommands("$REGISTRY", tool);
            assert.ok(doc.includes(block(commands)), `docs/mirrors.md lacks:\n${commands}`);
        });
    }

    it("the commands copy every deployed image and push both charts", () => {
        const images = imageMirrorCommands("$REGISTRY", "crane");
        for (const image of deployedImages({ imageRegistry: "$REGISTRY" })) {
            assert.ok(
                images.includes(`crane copy ${imageReference(image.upstream)} ${imageReference(image.deployed)}\n`),
                image.upstream.repository,
            );
        }
        assert.equal(images.split("\n").length - 1, deployedImages().length);
        const charts = chartMirrorCommands("$REGISTRY/charts");
        for (const chart of [VELERO_CHART, ARGO_CD_CHART]) {
            assert.ok(
                charts.includes(
                    `helm pull ${chart.name} --repo ${chart.repo} --version ${chart.version}\nhelm push ${chart.name}-${chart.version}.tgz oci://$REGISTRY/charts\n`,
                ),
                chart.name,
            );
        }
        assert.ok(
            imageMirrorCommands("$REGISTRY", "skopeo", "v1.14.0").includes(
                "docker://docker.io/velero/velero-plugin-for-aws:v1.14.0 docker://$REGISTRY/velero/velero-plugin-for-aws:v1.14.0\n",
            ),
        );
    });

    it("the image table lists every deployed image, as pinned and as mirrored, and no other", () => {
        for (const image of deployedImages({ imageRegistry: "$REGISTRY" })) {
            const row = `| \`${imageReference(image.upstream)}\` | \`${imageReference(image.deployed)}\` | ${image.usedBy} |`;
            assert.ok(doc.includes(row), row);
        }
        assert.equal(doc.match(/^\| `[^`]+` \| `\$REGISTRY\/[^`]+` \|/gm)?.length, deployedImages().length);
    });

    it("documents the three keys", () => {
        for (const key of ["veleroChart", "argoCdChart", "imageRegistry"]) {
            assert.ok(doc.includes(`gitops-dr:${key}`), key);
        }
    });
});

// --- Config rules --------------------------------------------------------------------------------------------

const PROTECT: RawConfig = PROTECT_RAW;
const withKeys = (changes: Readonly<Record<string, string>>): RawConfig => ({
    ...PROTECT,
    ...Object.fromEntries(Object.entries(changes).map(([k, v]) => [k, plain(v)])),
});

function problemsOf(raw: RawConfig): readonly ConfigProblem[] {
    try {
        parseConfigWithWarnings(raw, "prod");
    } catch (e) {
        assert.ok(e instanceof ConfigError, String(e));
        return e.problems;
    }
    return [];
}

/** Asserts exactly one problem, on `key`, and returns its message. */
function onlyProblem(changes: Readonly<Record<string, string>>, key: string): string {
    const problems = problemsOf(withKeys(changes));
    assert.deepEqual(
        problems.map((p) => p.key),
        [`gitops-dr:${key}`],
        problems.map((p) => `${p.key}: ${p.message}`).join("\n"),
    );
    return problems[0].message;
}

function warningsOf(changes: Readonly<Record<string, string>>): readonly ConfigWarning[] {
    return parseConfigWithWarnings(withKeys(changes), "prod").warnings;
}

const mirrorsOf = (changes: Readonly<Record<string, string>>) =>
    parseConfigWithWarnings(withKeys(changes), "prod").config.mirrors;

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-dr-mirrors-"));

/** A chart archive as `helm package` lays it out: `<dir>/Chart.yaml`, gzip-compressed tar. */
function chartArchive(
    name: string,
    version: string,
    options: { file?: string; dir?: string; chartYaml?: string } = {},
): string {
    const work = fs.mkdtempSync(path.join(TMP, "chart-"));
    const dir = options.dir ?? name;
    fs.mkdirSync(path.join(work, dir, "templates"), { recursive: true });
    fs.writeFileSync(
        path.join(work, dir, "Chart.yaml"),
        options.chartYaml ??
            `apiVersion: v2\nname: ${name}\nversion: ${version}\nappVersion: 1.0.0\ndependencies:\n- name: sub\n  version: 9.9.9\n`,
    );
    fs.writeFileSync(path.join(work, dir, "values.yaml"), "{}\n");
    const file = path.join(work, options.file ?? `${name}-${version}.tgz`);
    execFileSync("tar", ["-czf", file, "-C", work, dir]);
    return file;
}

describe("parseConfig: mirrors", () => {
    after(() => fs.rmSync(TMP, { recursive: true, force: true }));

    it("defaults to the public repositories and registries, declared as empty strings", () => {
        assert.deepEqual(mirrorsOf({}), {
            veleroChart: { kind: "public" },
            argoCdChart: { kind: "public" },
            imageRegistry: undefined,
        });
        assert.deepEqual(mirrorsOf({ veleroChart: "", argoCdChart: "", imageRegistry: "" }), {
            veleroChart: { kind: "public" },
            argoCdChart: { kind: "public" },
            imageRegistry: undefined,
        });
    });

    it("accepts an OCI registry, an HTTPS repository, an archive and a registry location", () => {
        const archive = chartArchive("argo-cd", ARGO_CD_CHART.version);
        assert.deepEqual(
            mirrorsOf({
                veleroChart: "oci://registry.acme.internal:5000/charts",
                argoCdChart: archive,
                imageRegistry: "registry.acme.internal:5000/gitops-dr",
            }),
            {
                veleroChart: { kind: "oci", url: "oci://registry.acme.internal:5000/charts" },
                argoCdChart: { kind: "archive", path: archive },
                imageRegistry: "registry.acme.internal:5000/gitops-dr",
            },
        );
        assert.deepEqual(mirrorsOf({ veleroChart: "https://charts.acme.internal/helm/velero/" }).veleroChart, {
            kind: "https",
            url: "https://charts.acme.internal/helm/velero/",
        });
        assert.deepEqual(mirrorsOf({ veleroChart: "oci://localhost:5000" }).veleroChart, {
            kind: "oci",
            url: "oci://localhost:5000",
        });
        assert.equal(mirrorsOf({ imageRegistry: "localhost:5000" }).imageRegistry, "localhost:5000");
        assert.equal(
            mirrorsOf({ imageRegistry: "111122223333.dkr.ecr.eu-west-1.amazonaws.com" }).imageRegistry,
            "111122223333.dkr.ecr.eu-west-1.amazonaws.com",
        );
        assert.deepEqual(
            warningsOf({ veleroChart: "oci://registry.acme.internal/charts", imageRegistry: "registry.acme.internal" }),
            [],
        );
    });

    it("reads a relative archive path from the project directory", () => {
        const archive = chartArchive("velero", VELERO_CHART.version);
        const relative = path.relative(process.cwd(), archive);
        assert.ok(!path.isAbsolute(relative));
        assert.deepEqual(mirrorsOf({ veleroChart: relative }).veleroChart, { kind: "archive", path: relative });
    });

    it("refuses an OCI URL with a tag", () => {
        assert.equal(
            onlyProblem({ veleroChart: "oci://registry.acme.internal/charts/velero:12.1.0" }, "veleroChart"),
            '"oci://registry.acme.internal/charts/velero:12.1.0" names a tag; the version is always the pinned 12.1.0, and the program appends /velero:12.1.0. Fix: `pulumi config set gitops-dr:veleroChart oci://registry.acme.internal/charts`.',
        );
    });

    it("refuses an OCI URL with a trailing slash", () => {
        assert.equal(
            onlyProblem({ argoCdChart: "oci://registry.acme.internal/charts/" }, "argoCdChart"),
            '"oci://registry.acme.internal/charts/" ends with "/"; the program appends /argo-cd itself. Fix: `pulumi config set gitops-dr:argoCdChart oci://registry.acme.internal/charts`.',
        );
    });

    it("refuses an OCI URL with credentials or a digest", () => {
        assert.equal(
            onlyProblem({ veleroChart: "oci://robot:s3cret@registry.acme.internal/charts" }, "veleroChart"),
            '"oci://robot:s3cret@registry.acme.internal/charts" holds an @ (credentials or a digest): give the repository only, log in with `helm registry login <host>` on the machine that runs Pulumi, and the pinned version 12.1.0 is pulled. Fix: `pulumi config set gitops-dr:veleroChart oci://registry.acme.internal/charts`.',
        );
    });

    for (const bad of [
        "oci://",
        "oci://registry.acme.internal/Charts",
        "oci://registry_acme/charts",
        "oci://registry.acme.internal:99999/charts",
        "oci://registry.acme.internal/charts?x=1",
    ]) {
        it(`refuses the malformed OCI URL ${JSON.stringify(bad)}`, () => {
            assert.equal(
                onlyProblem({ veleroChart: bad }, "veleroChart"),
                `${JSON.stringify(bad)} is not an OCI repository oci://<host>[:<port>][/<path>] (a registry host, then lowercase path components of letters, digits and . _ -). Fix: \`pulumi config set gitops-dr:veleroChart oci://registry.acme.internal/charts\`.`,
            );
        });
    }

    it("warns when an OCI URL already ends in the chart's name", () => {
        const warnings = warningsOf({ veleroChart: "oci://registry.acme.internal/charts/velero" });
        assert.deepEqual(warnings, [
            {
                key: "gitops-dr:veleroChart",
                message:
                    '"oci://registry.acme.internal/charts/velero" ends in /velero, so the chart is pulled from oci://registry.acme.internal/charts/velero/velero:12.1.0. If you ran `helm push velero-12.1.0.tgz oci://registry.acme.internal/charts`, set `pulumi config set gitops-dr:veleroChart oci://registry.acme.internal/charts`.',
            },
        ]);
    });

    it("refuses an HTTPS URL with credentials", () => {
        assert.equal(
            onlyProblem({ veleroChart: "https://robot:s3cret@charts.acme.internal/helm" }, "veleroChart"),
            '"https://robot:s3cret@charts.acme.internal/helm" holds credentials, which a plain config value would keep in clear text in Pulumi.prod.yaml. Fix: push the chart to an OCI registry and log in with `helm registry login <host>` on the machine that runs Pulumi, then `pulumi config set gitops-dr:veleroChart oci://registry.acme.internal/charts`; or use a local archive.',
        );
    });

    it("refuses an HTTPS URL with a query or fragment", () => {
        assert.equal(
            onlyProblem({ veleroChart: "https://charts.acme.internal/helm?token=1" }, "veleroChart"),
            '"https://charts.acme.internal/helm?token=1" has a query or fragment; Helm appends /index.yaml to a repository URL. Fix: `pulumi config set gitops-dr:veleroChart https://charts.acme.internal/helm`.',
        );
    });

    it("refuses a malformed HTTPS URL", () => {
        assert.equal(
            onlyProblem({ veleroChart: "https://" }, "veleroChart"),
            '"https://" is not a valid https:// URL. Fix: `pulumi config set gitops-dr:veleroChart https://charts.acme.internal/helm` (a Helm repository serving index.yaml) or `pulumi config set gitops-dr:veleroChart oci://registry.acme.internal/charts`.',
        );
    });

    it("refuses plain HTTP", () => {
        assert.equal(
            onlyProblem({ argoCdChart: "http://charts.acme.internal/helm" }, "argoCdChart"),
            '"http://charts.acme.internal/helm" is plain HTTP: a chart fetched without TLS can be altered on the way, and it runs with cluster-admin rights. Fix: serve the mirror over https://, or `pulumi config set gitops-dr:argoCdChart oci://registry.acme.internal/charts`.',
        );
    });

    it("refuses another scheme", () => {
        assert.equal(
            onlyProblem({ veleroChart: "s3://acme-charts/velero-12.1.0.tgz" }, "veleroChart"),
            '"s3://acme-charts/velero-12.1.0.tgz" has the scheme s3://; veleroChart takes oci://, https:// or the path of a .tgz chart archive. Fix: `pulumi config set gitops-dr:veleroChart oci://registry.acme.internal/charts`.',
        );
    });

    it("refuses whitespace", () => {
        assert.equal(
            onlyProblem({ veleroChart: " oci://registry.acme.internal/charts" }, "veleroChart"),
            '" oci://registry.acme.internal/charts" contains whitespace. Fix: `pulumi config set gitops-dr:veleroChart oci://registry.acme.internal/charts`.',
        );
    });

    const ARCHIVE_FIX =
        "Fix: `helm pull velero --repo https://vmware-tanzu.github.io/helm-charts --version 12.1.0 -d charts`, then `pulumi config set gitops-dr:veleroChart ./charts/velero-12.1.0.tgz`.";

    it("refuses a path that is not a .tgz", () => {
        assert.equal(
            onlyProblem({ veleroChart: "./charts/velero" }, "veleroChart"),
            `"./charts/velero" is neither an oci:// or https:// URL nor a .tgz chart archive (helm pull writes velero-12.1.0.tgz). ${ARCHIVE_FIX}`,
        );
    });

    it("refuses a .tgz that does not exist, saying where it was looked for", () => {
        const missing = path.join(TMP, "nowhere", "velero-12.1.0.tgz");
        assert.equal(
            onlyProblem({ veleroChart: missing }, "veleroChart"),
            `"${missing}" is not a file (${missing}; a relative path is read from the project directory, where Pulumi runs the program and the Helm provider). ${ARCHIVE_FIX}`,
        );
    });

    it("refuses a .tgz that is not gzip-compressed", () => {
        const file = path.join(TMP, "velero-12.1.0.tgz");
        fs.writeFileSync(file, "apiVersion: v2\nname: velero\n");
        assert.match(
            onlyProblem({ veleroChart: file }, "veleroChart"),
            new RegExp(
                `^"${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}" is not a Helm chart archive: it is not gzip-compressed \\(.+\\)\\. Fix: `,
            ),
        );
    });

    it("refuses a .tgz without a Chart.yaml", () => {
        const file = chartArchive("velero", VELERO_CHART.version, { dir: "velero/templates" });
        assert.equal(
            onlyProblem({ veleroChart: file }, "veleroChart"),
            `"${file}" is not a Helm chart archive: it holds no <chart>/Chart.yaml. ${ARCHIVE_FIX}`,
        );
    });

    it("refuses an archive of another chart or version", () => {
        const older = chartArchive("velero", "12.0.3", { file: "velero-12.1.0.tgz" });
        assert.equal(
            onlyProblem({ veleroChart: older }, "veleroChart"),
            `"${older}" holds the chart velero 12.0.3, not the pinned velero 12.1.0 (components/versions.ts), which gitops-dr's values are written for. ${ARCHIVE_FIX}`,
        );
        const other = chartArchive("argo-cd", ARGO_CD_CHART.version);
        assert.match(
            onlyProblem({ veleroChart: other }, "veleroChart"),
            /holds the chart argo-cd 10\.1\.1, not the pinned velero 12\.1\.0/,
        );
    });

    it("reads Chart.yaml's top-level name and version only, quoted or not", () => {
        const file = chartArchive("velero", "", {
            chartYaml:
                "apiVersion: v2\nname: 'velero'\nversion: \"12.1.0\" # pinned\ndependencies:\n  - name: other\n    version: 1.0.0\n",
        });
        assert.deepEqual(chartArchiveMetadata(file), { name: "velero", version: "12.1.0" });
        const deep = chartArchive("velero", VELERO_CHART.version, { dir: "d".repeat(160) });
        assert.deepEqual(
            chartArchiveMetadata(deep),
            { name: "velero", version: VELERO_CHART.version },
            "a long directory name (GNU or PAX header)",
        );
    });

    const REGISTRY_FIX = (v: string) => `Fix: \`pulumi config set gitops-dr:imageRegistry ${v}\`.`;

    it("refuses an imageRegistry with a scheme, suggesting it without", () => {
        assert.equal(
            onlyProblem({ imageRegistry: "https://registry.acme.internal/" }, "imageRegistry"),
            `"https://registry.acme.internal/" has a scheme; an image reference names its registry without one (docker.io/velero/velero, not https://...). ${REGISTRY_FIX("registry.acme.internal")}`,
        );
    });

    it("refuses an imageRegistry with a trailing slash", () => {
        assert.equal(
            onlyProblem({ imageRegistry: "registry.acme.internal/gitops-dr/" }, "imageRegistry"),
            `"registry.acme.internal/gitops-dr/" ends with "/"; the program appends /<repository path> itself, which would make "registry.acme.internal/gitops-dr//velero/velero". ${REGISTRY_FIX("registry.acme.internal/gitops-dr")}`,
        );
    });

    for (const bad of [
        "registry.acme.internal/gitops-dr:v1",
        `registry.acme.internal/velero@sha256:${"a".repeat(64)}`,
    ]) {
        it(`refuses an imageRegistry that names a tag or digest: ${bad.slice(0, 40)}`, () => {
            assert.match(
                onlyProblem({ imageRegistry: bad }, "imageRegistry"),
                /names a tag or digest; imageRegistry is the registry \(and path\) each image's repository path is appended to, and every image keeps its pinned tag\. Fix: `pulumi config set gitops-dr:imageRegistry registry\.acme\.internal`\.$/,
            );
        });
    }

    for (const bad of [
        "registry.acme.internal/GitOps",
        "registry.acme.internal:70000",
        "registry_acme.internal",
        "registry.acme.internal/a//b",
    ]) {
        it(`refuses the malformed imageRegistry ${JSON.stringify(bad)}`, () => {
            assert.equal(
                onlyProblem({ imageRegistry: bad }, "imageRegistry"),
                `${JSON.stringify(bad)} is not a registry location host[:port][/path] (a host name, an optional port up to 65535, then lowercase path components of letters, digits and . _ -). ${REGISTRY_FIX("registry.acme.internal")}`,
            );
        });
    }

    it("refuses an imageRegistry that container runtimes would read as a Docker Hub namespace", () => {
        assert.equal(
            onlyProblem({ imageRegistry: "mirror/gitops-dr" }, "imageRegistry"),
            `"mirror/gitops-dr" has no dot or port in its first component, so container runtimes would read it as a Docker Hub namespace and pull docker.io/mirror/gitops-dr/velero/velero (distribution reference, splitDockerDomain). ${REGISTRY_FIX("registry.acme.internal")}`,
        );
    });

    for (const registry of [
        "docker.io",
        "quay.io/acme",
        "ghcr.io",
        "registry.k8s.io",
        "public.ecr.aws/acme",
        "ecr-public.aws.com",
    ]) {
        it(`refuses the public registry ${registry} as imageRegistry`, () => {
            assert.equal(
                onlyProblem({ imageRegistry: registry }, "imageRegistry"),
                `${JSON.stringify(registry)} is a public registry; imageRegistry is a private mirror holding copies of the pinned images (docs/mirrors.md). ${REGISTRY_FIX("registry.acme.internal")}`,
            );
        });
    }

    it("reports every bad mirror key at once", () => {
        const problems = problemsOf(
            withKeys({ veleroChart: "http://a.example", argoCdChart: "charts/argo-cd", imageRegistry: "mirror" }),
        );
        assert.deepEqual(
            problems.map((p) => p.key),
            ["gitops-dr:veleroChart", "gitops-dr:argoCdChart", "gitops-dr:imageRegistry"],
        );
    });
});
