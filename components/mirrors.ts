/**
 * Private mirrors: where the pinned charts and images come from when a recovery must not depend on a public
 * chart repository or image registry. On the day a cluster is lost, a rate limit or an outage of Docker Hub,
 * quay.io, ghcr.io or a chart repository on GitHub Pages must not stop the rebuild.
 *
 * - A chart comes from its public repository, from an OCI registry it was pushed to, from a Helm HTTP
 *   repository that mirrors it, or from a local archive ({@link releaseChart}); always at the pinned version.
 * - Every image the program deploys ({@link deployedImages}) comes from `<imageRegistry>/<its repository path
 *   without the registry host>`, with the pinned tag, and the pinned digest where one is pinned.
 *
 * Pure functions: components/config/mirrors.ts validates the settings, the components build their inputs with
 * these, and docs/mirrors.md's commands are the ones {@link chartMirrorCommands} and
 * {@link imageMirrorCommands} print (tests/mirrors.test.ts).
 */
import type { ChartSource } from "./config/types";
import {
    ARGO_CD_CHART,
    ARGO_CD_IMAGE,
    DEX_IMAGE,
    KUBECTL_IMAGE,
    NODE_IMAGE,
    REDIS_IMAGE,
    VELERO_AWS_PLUGIN,
    VELERO_CHART,
    VELERO_IMAGE,
} from "./versions";

/** An image as pinned: its repository (with the registry host), its tag and, where pinned, its digest. */
export interface ImagePin {
    readonly repository: string;
    readonly tag: string;
    /** `sha256:<hex>`. When set, runtimes pull by digest; the tag stays for readers. Defaults to none. */
    readonly digest?: string;
}

/** A chart as pinned in components/versions.ts. */
export interface ChartPin {
    readonly repo: string;
    readonly name: string;
    readonly version: string;
}

/** Docker Hub, where a reference without a registry host goes, and the names it is known by. */
export const DOCKER_HUB = "docker.io";
const DOCKER_HUB_ALIASES = ["docker.io", "index.docker.io", "registry-1.docker.io"];

/**
 * Splits an image repository into registry host and path the way container runtimes read it (distribution
 * `reference/normalize.go`, `splitDockerDomain`): the first component is a host only when it holds a dot or a
 * port, is `localhost`, or has an uppercase letter; anything else is a Docker Hub path, under `library/` when
 * it has a single component.
 */
export function splitRepository(repository: string): { readonly host: string; readonly path: string } {
    const i = repository.indexOf("/");
    const first = i < 0 ? "" : repository.slice(0, i);
    if (i < 0 || (!/[.:]/.test(first) && first !== "localhost" && first.toLowerCase() === first)) {
        return { host: DOCKER_HUB, path: repository.includes("/") ? repository : `library/${repository}` };
    }
    const host = DOCKER_HUB_ALIASES.includes(first) ? DOCKER_HUB : first;
    const path = repository.slice(i + 1);
    return { host, path: host === DOCKER_HUB && !path.includes("/") ? `library/${path}` : path };
}

/** `<registry>/<path without the host>`; the repository itself when no registry is given. */
export function mirroredRepository(repository: string, registry?: string): string {
    return registry === undefined ? repository : `${registry}/${splitRepository(repository).path}`;
}

/** The pin with its repository moved to the mirror; tag and digest are kept. */
export function mirrorImage(pin: ImagePin, registry?: string): ImagePin {
    return { ...pin, repository: mirroredRepository(pin.repository, registry) };
}

/** `repository:tag`, or `repository:tag@digest` when a digest is pinned (a runtime then pulls by digest). */
export function imageReference(pin: ImagePin): string {
    return `${pin.repository}:${pin.tag}${pin.digest === undefined ? "" : `@${pin.digest}`}`;
}

/** The `helm.v3.Release` inputs that say where its chart comes from. */
export interface ReleaseChart {
    readonly chart: string;
    readonly version: string;
    readonly repositoryOpts?: { readonly repo: string };
}

/**
 * Where a Release takes a pinned chart from (pulumi-kubernetes `provider/pkg/provider/helm_release.go`,
 * `chartPathOptionsFromRelease` and `locateChart`):
 * - an `oci://` chart name with no `repositoryOpts`: Helm pulls `<name>:<version>` through its registry client,
 *   which reads the credentials `helm registry login` stored;
 * - a repository URL in `repositoryOpts.repo`: Helm reads the repository's `index.yaml`;
 * - a path with no `repositoryOpts`: the provider loads the archive from disk (the version is not consulted
 *   then: components/config/mirrors.ts checks the archive's Chart.yaml instead).
 * Only `name` and `namespace` force a replacement of a Release, so switching the source upgrades in place.
 */
export function releaseChart(pin: ChartPin, source: ChartSource = { kind: "public" }): ReleaseChart {
    switch (source.kind) {
        case "public":
            return { chart: pin.name, version: pin.version, repositoryOpts: { repo: pin.repo } };
        case "https":
            return { chart: pin.name, version: pin.version, repositoryOpts: { repo: source.url } };
        case "oci":
            // `helm push <chart>-<version>.tgz oci://host/path` stores it as oci://host/path/<chart>:<version>.
            return { chart: `${source.url}/${pin.name}`, version: pin.version };
        case "archive":
            return { chart: source.path, version: pin.version };
        default: {
            const unreachable: never = source;
            throw new Error(`unhandled chart source ${JSON.stringify(unreachable)}`);
        }
    }
}

/** The pinned charts, in the order they are installed. */
export const PINNED_CHARTS: readonly ChartPin[] = [VELERO_CHART, ARGO_CD_CHART];

/**
 * The pinned chart a Release's `chart` input installs: the chart's name (public or HTTPS source), an
 * `oci://.../<name>` reference, or an archive named `<name>-<version>.tgz` as `helm pull` writes it. Undefined
 * for anything else (an archive under another name: read it with `chartArchiveMetadata`).
 */
export function pinnedChart(chart: string): ChartPin | undefined {
    const base = chart.slice(chart.lastIndexOf("/") + 1);
    return PINNED_CHARTS.find(
        (pin) =>
            chart === pin.name ||
            (chart.startsWith("oci://") && base === pin.name) ||
            base === `${pin.name}-${pin.version}.tgz`,
    );
}

/** One image the program deploys. */
export interface DeployedImage {
    /** The image as pinned, from its public registry. */
    readonly upstream: ImagePin;
    /** The image as deployed: {@link upstream}, moved to the mirror when one is set. */
    readonly deployed: ImagePin;
    /** Which stacks run it and where it is set. */
    readonly usedBy: string;
    /** The modes whose stacks deploy it (a protect stack runs the restore tasks only for a namespace restore). */
    readonly modes: readonly ("protect" | "recover" | "drill")[];
}

/**
 * Every image the program deploys, as pinned (components/versions.ts) and as deployed. The charts' other
 * images are not deployed with gitops-dr's values (the argo-cd chart's redis exporter, redis-ha and its
 * haproxy, and server extensions are all disabled by default and left so); tests/mirrors.test.ts checks that
 * against the charts' values.yaml.
 */
export function deployedImages(
    options: { readonly imageRegistry?: string; readonly awsPluginVersion?: string } = {},
): DeployedImage[] {
    const every = ["protect", "recover", "drill"] as const;
    const images: { upstream: ImagePin; usedBy: string; modes: DeployedImage["modes"] }[] = [
        {
            upstream: VELERO_IMAGE,
            // The data mover, restore helper and repository maintenance pods inherit the server's image (velero
            // v1.18.1 pkg/exposer/image.go `getInheritedPodInfo`, pkg/util/velero/velero.go `GetVeleroServerImage`).
            usedBy: "every stack: Velero server, node agent, CRD upgrade job, data mover and repository maintenance pods (velero chart `image`)",
            modes: every,
        },
        {
            upstream: {
                repository: VELERO_AWS_PLUGIN.repository,
                tag: options.awsPluginVersion ?? VELERO_AWS_PLUGIN.tag,
            },
            usedBy: "every stack: the AWS plugin, an init container of the Velero server (velero chart `initContainers`)",
            modes: every,
        },
        {
            upstream: ARGO_CD_IMAGE,
            usedBy: "every stack: every Argo CD component, Dex's init container and the Redis secret-init job (argo-cd chart `global.image`)",
            modes: every,
        },
        {
            upstream: DEX_IMAGE,
            usedBy: "every stack whose `argoCdValues` turn on Dex, Argo CD's SSO server (argo-cd chart `dex.image`)",
            modes: every,
        },
        {
            upstream: REDIS_IMAGE,
            usedBy: "every stack: Redis, Argo CD's cache (argo-cd chart `redis.image`)",
            modes: every,
        },
        {
            upstream: NODE_IMAGE,
            usedBy: "recover, drill, and a protect stack's namespace restore: the checks before and after the restore (components/tasks, Jobs in Velero's namespace)",
            modes: ["recover", "drill"],
        },
        {
            upstream: KUBECTL_IMAGE,
            usedBy: "drill: the verification Job; every stack sets it as the velero chart's `kubectl.image` (its CRD clean-up and namespace-label jobs, off with gitops-dr's values)",
            modes: every,
        },
    ];
    return images.map((i) => ({ ...i, deployed: mirrorImage(i.upstream, options.imageRegistry) }));
}

/**
 * The shell commands that put both pinned charts into an OCI registry: `helm pull` from the public repository,
 * `helm push` to `oci://<chartRegistry>` (Helm 3.8 or later), which stores each as
 * `oci://<chartRegistry>/<chart>:<version>`: set `veleroChart` and `argoCdChart` to `oci://<chartRegistry>`.
 */
export function chartMirrorCommands(chartRegistry: string): string {
    return PINNED_CHARTS.map(
        (c) =>
            `helm pull ${c.name} --repo ${c.repo} --version ${c.version}\nhelm push ${c.name}-${c.version}.tgz oci://${chartRegistry}\n`,
    ).join("");
}

/** How docs/mirrors.md copies images: crane (go-containerregistry) or skopeo. */
export type CopyTool = "crane" | "skopeo";

/**
 * The shell commands that copy every image of {@link deployedImages} into `imageRegistry`, with all its
 * platforms, so that a multi-platform image keeps its digest in the mirror (`crane copy` copies the whole
 * index; skopeo needs `--all`, and `--preserve-digests` makes it fail rather than change one).
 */
export function imageMirrorCommands(imageRegistry: string, tool: CopyTool, awsPluginVersion?: string): string {
    return deployedImages({ imageRegistry, awsPluginVersion })
        .map((image) => {
            // A pinned digest is what is copied, under the pinned tag, so the mirror serves that digest by either.
            const { repository, tag, digest } = image.upstream;
            const from = digest === undefined ? `${repository}:${tag}` : `${repository}@${digest}`;
            const to = `${image.deployed.repository}:${tag}`;
            switch (tool) {
                case "crane":
                    return `crane copy ${from} ${to}\n`;
                case "skopeo":
                    return `skopeo copy --all --preserve-digests docker://${from} docker://${to}\n`;
                default: {
                    const unreachable: never = tool;
                    throw new Error(`unhandled copy tool ${String(unreachable)}`);
                }
            }
        })
        .join("");
}
