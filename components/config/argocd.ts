/** Parsing of the Argo CD keys: the git repository it rebuilds the apps from, and the first-install switch. */
import { DEFAULT_NAMES } from "../names";
import { ARGO_CD_GUARDED, parseUserValues } from "./user-values";
import { ConfigReader, q, rmCmd, setCmd, setListCmd } from "./reader";
import type { ArgoCdSettings, Mode } from "./types";
import { isDnsLabel } from "./values";

/** Names of Applications, as `newAppVolumes` lists them. */
const isAppName = (s: string) => /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(s) && s.length <= 253;

/**
 * What credentials an https or ssh URL carries in its userinfo (`https://user:token@host/...`,
 * `https://token@host/...`), or undefined. scp-like ssh (`git@host:org/repo`) names only the ssh user.
 */
export function urlCredentials(url: string): string | undefined {
    const m = /^(?:https?|ssh):\/\/([^/@\s]+)@/.exec(url);
    if (m === null) {
        return undefined;
    }
    if (m[1].includes(":")) {
        return "a user name and a password or token";
    }
    // ssh://git@host/... names the ssh user, as scp-like URLs do; over https a lone userinfo is a token.
    return url.startsWith("ssh://") ? undefined : "a token or user name";
}

/** The URL without its userinfo. */
function withoutCredentials(url: string): string {
    return url.replace(/^((?:https?|ssh):\/\/)[^/@\s]+@/, "$1");
}

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
    } else if (urlCredentials(url) !== undefined) {
        // The URL lands in plain text in the Application and in the repository Secret's url, never as a secret.
        r.problem(
            "gitRepoUrl",
            `carries ${urlCredentials(url)!} in the URL, which would land in plain text in the Argo CD Application and in the stack's state. Fix: \`${setCmd("gitRepoUrl", withoutCredentials(url))}\` and put the credentials in \`${setCmd("gitUsername", "git")}\` and \`${setCmd("gitPassword", "<token>", true)}\`.`,
        );
    } else if (!ssh && !/^https:\/\/[^\s/]+\/\S+$/.test(url)) {
        r.problem(
            "gitRepoUrl",
            `${q(url)} is not an https:// or ssh git URL. Fix: \`${setCmd("gitRepoUrl", "https://github.com/acme/platform-gitops.git")}\`.`,
        );
    }
    const path = r.str("gitPath") ?? "apps";
    if (path.trim() === "" || /[\s\x00-\x1f\x7f]/.test(path)) {
        r.problem(
            "gitPath",
            `${q(path)} ${path.trim() === "" ? "is blank" : "contains whitespace or a control character"}: Argo CD would look for the apps in no directory of the repository. Fix: \`${setCmd("gitPath", "apps")}\`.`,
        );
    } else if (path.startsWith("/") || path.split("/").includes("..")) {
        r.problem(
            "gitPath",
            `${q(path)} must be a path inside the repository (no leading slash, no ..). Fix: \`${setCmd("gitPath", "apps")}\`.`,
        );
    }
    const revision = r.str("gitRevision") ?? "HEAD";
    if (revision.trim() === "" || /[\s\x00-\x1f\x7f]/.test(revision)) {
        // git refuses whitespace and control characters in ref names (git-check-ref-format).
        r.problem(
            "gitRevision",
            `${q(revision)} ${revision.trim() === "" ? "is blank" : "contains whitespace or a control character"}, which no git branch, tag or commit has. Fix: \`${setCmd("gitRevision", "HEAD")}\`.`,
        );
    }
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
