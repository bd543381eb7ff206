/**
 * Every upstream version gitops-dr deploys, in one place. Bump them together: the velero chart, the Velero
 * image it ships and the AWS plugin are released as a matched set (see the compatibility matrix in the
 * velero-plugin-for-aws README).
 */

/** The vmware-tanzu velero Helm chart. */
export const VELERO_CHART = {
    repo: "https://vmware-tanzu.github.io/helm-charts",
    name: "velero",
    version: "12.1.0",
} as const;

/** The Velero server and node-agent image the chart version above ships (`appVersion` 1.18.1). */
export const VELERO_IMAGE = {
    repository: "docker.io/velero/velero",
    tag: "v1.18.1",
} as const;

/**
 * velero-plugin-for-aws. The v1.14 line is the one the plugin's compatibility matrix pairs with Velero 1.18
 * (README at tag v1.14.2: `| v1.14.x | v1.18.x |`); any other minor line is rejected by config validation.
 * v1.14.2 is the newest tag of that line (velero-io/velero-plugin-for-aws, tagged 2026-06-16, commit 5463822;
 * the repository moved there from vmware-tanzu), and images are pushed to Docker Hub on tags
 * (.github/workflows/push.yml). Velero's own v1.18 upgrade docs cite v1.14.0.
 */
export const VELERO_AWS_PLUGIN = {
    repository: "docker.io/velero/velero-plugin-for-aws",
    tag: "v1.14.2",
    /** The release line that pairs with {@link VELERO_IMAGE}. */
    compatibleLine: "v1.14",
} as const;

/** The argo-cd Helm chart (Argo CD v3.4.4), deployed by the restore-order wave. */
export const ARGO_CD_CHART = {
    repo: "https://argoproj.github.io/argo-helm",
    name: "argo-cd",
    version: "10.1.1",
} as const;

/**
 * The Argo CD image of the argo-cd chart above (its `appVersion`, v3.4.4). The chart would pick it by default;
 * pinning it in the values makes a chart bump that changes the image visible in review.
 */
export const ARGO_CD_IMAGE = {
    repository: "quay.io/argoproj/argocd",
    tag: "v3.4.4",
} as const;

/**
 * Dex, the SSO server the argo-cd chart 10.1.1 deploys by default (`dex.enabled: true`, values `dex.image`).
 * Pinned to the chart's default, and set in the values, so that a private mirror holds exactly this image.
 */
export const DEX_IMAGE = {
    repository: "ghcr.io/dexidp/dex",
    tag: "v2.45.1",
} as const;

/**
 * Redis, Argo CD's cache, deployed by the argo-cd chart 10.1.1 (`redis.enabled: true`, values `redis.image`).
 * The chart pulls it from Amazon ECR Public's dual-stack endpoint (argo-helm PR #3328). Pinned to the chart's
 * default, and set in the values, for the same reason as {@link DEX_IMAGE}.
 */
export const REDIS_IMAGE = {
    repository: "ecr-public.aws.com/docker/library/redis",
    tag: "8.2.3-alpine",
} as const;

/**
 * The kubectl image of the drill's verification Job: Kubernetes' own, published at registry.k8s.io/kubectl
 * since 1.28 (kubernetes PR #116672). Distroless: no shell, so every step is a plain kubectl command. The tag is
 * the one the velero chart 12.1.0 documents for its kubectl image (values.yaml, `kubectl.image.tag`), and the
 * velero values pin it too: unset, the chart derives the tag from the cluster's version, which no mirror can
 * know in advance.
 */
export const KUBECTL_IMAGE = {
    repository: "registry.k8s.io/kubectl",
    tag: "v1.34.5",
} as const;

/**
 * The Node.js image the in-cluster tasks run in (components/tasks/): the official image's current LTS line on
 * Alpine, which ships node and nothing the tasks need besides (they use Node's built-ins only). The tag is the one
 * nodejs/docker-node builds from `24/alpine3.23/Dockerfile` (`ENV NODE_VERSION=24.19.0`, commit f27d936, 2026-08-19).
 * It runs as the image's `node` user (uid 1000).
 */
export const NODE_IMAGE = {
    repository: "docker.io/library/node",
    tag: "24.19.0-alpine3.23",
} as const;
