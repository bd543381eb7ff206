/** Parsing of the Argo CD keys: the git repository it rebuilds the apps from, and the first-install switch. */
import { DEFAULT_NAMES } from "../names";
import { ARGO_CD_GUARDED, parseUserValues } from "./user-values";
import { ConfigReader, q, rmCmd, setCmd, setListCmd } from "./reader";
import type { ArgoCdSettings, Mode } from "./types";
import { isDnsLabel } from "./values";

/** Names of Applications, as `newAppVolumes` lists them. */
const isAppName = (s: string) => /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(s) && s.length <= 253;

/** Parses the Argo CD keys. */
export function parseArgoCd(
    r: ConfigReader,
    mode: Mode,
    veleroNamespace: string,
    imageRegistry?: string,
): ArgoCdSettings {
    const url = r.str("gitRepoUrl");
    const ssh = url !== undefined && (/^ssh:\/\//.test(url) || /^[\w.-]+@[\w.-]+:/.test(url));
    if (url === undefined) {
        r.problem(
            "gitRepoUrl",
            `is required: the git repository Argo CD rebuilds the cluster's apps from. Fix: \`${setCmd("gitRepoUrl", "https://github.com/acme/platform-gitops.git")}\`.`,
        );
    } else if (!ssh && !/^https:\/\/[^\s/]+\/\S+$/.test(url)) {
        r.problem(
            "gitRepoUrl",
            `${q(url)} is not an https:// or ssh git URL. Fix: \`${setCmd("gitRepoUrl", "https://github.com/acme/platform-gitops.git")}\`.`,
        );
    }
    const path = r.str("gitPath") ?? "apps";
    if (path.startsWith("/") || path.split("/").includes("..")) {
        r.problem(
            "gitPath",
            `${q(path)} must be a path inside the repository (no leading slash, no ..). Fix: \`${setCmd("gitPath", "apps")}\`.`,
        );
    }
    const revision = r.str("gitRevision") ?? "HEAD";
    const username = r.str("gitUsername");
    const password = r.secret("gitPassword", false, "<token>");
    const sshPrivateKey = r.secret("gitSshPrivateKey", false, '"$(cat deploy-key)"');
    if ((username === undefined) !== (r.explicit("gitPassword") === undefined)) {
        r.problem(
            username === undefined ? "gitUsername" : "gitPassword",
            `is needed too: a private https repository takes gitUsername and gitPassword together. Fix: \`${username === undefined ? setCmd("gitUsername", "git") : setCmd("gitPassword", "<token>", true)}\`.`,
        );
    }
    if (url !== undefined && ssh && username !== undefined) {
        r.problem(
            "gitUsername",
            `is set, but ${q(url)} is an ssh URL, which authenticates with gitSshPrivateKey. Fix: \`${rmCmd("gitUsername")}\` and \`${rmCmd("gitPassword")}\`.`,
        );
    }
    if (url !== undefined && !ssh && r.isSet("gitSshPrivateKey")) {
        r.problem(
            "gitSshPrivateKey",
            `is set, but ${q(url)} is not an ssh URL. Fix: use the repository's ssh URL in gitRepoUrl, or \`${rmCmd("gitSshPrivateKey")}\`.`,
        );
    }
    const namespace = r.str("argoCdNamespace") ?? DEFAULT_NAMES.argoCdNamespace;
    if (!isDnsLabel(namespace)) {
        r.problem(
            "argoCdNamespace",
            `${q(namespace)} is not a valid namespace name (RFC 1123 label). Fix: \`${setCmd("argoCdNamespace", "argocd")}\`.`,
        );
    } else if (namespace === veleroNamespace) {
        r.problem(
            "argoCdNamespace",
            `${q(namespace)} is also Velero's namespace; each needs its own. Fix: \`${setCmd("argoCdNamespace", "argocd")}\`.`,
        );
    }
    const userValues = parseUserValues(r, "argoCdValues", ARGO_CD_GUARDED, imageRegistry);
    let newAppVolumes: string[] = [];
    if (mode !== "protect") {
        r.forbidInMode(
            "newAppVolumes",
            mode,
            "every claim and Secret of a rebuilt cluster comes from the backup, and Argo CD must never create them",
        );
    } else {
        newAppVolumes = r.list("newAppVolumes", ["shop"]);
        for (const app of newAppVolumes) {
            if (!isAppName(app)) {
                r.problem(
                    "newAppVolumes",
                    `${q(app)} is not an Application name. Fix: \`${setListCmd("newAppVolumes", ["shop"])}\`.`,
                );
            }
        }
        // While it is on, the ArgoCd component warns on every run (components/argocd/).
    }
    return {
        namespace,
        releaseName: DEFAULT_NAMES.argoCdRelease,
        repository: { url: url ?? "", path, revision, username, password, sshPrivateKey },
        newAppVolumes,
        userValues,
    };
}
