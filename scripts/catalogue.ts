/**
 * `npm run catalogue`: prints the `config:` block of Pulumi.yaml and the README's inputs table, both generated
 * from the key catalogue (components/config/keys.ts). tests/catalogue.test.ts fails when the files differ
 * from what this prints, so the catalogue stays the one source.
 */
import { stringify } from "yaml";

import { CONFIG_KEYS, ConfigKeySpec, isDeclared, projectDeclarations } from "../components/config/keys";

/** The `config:` block of Pulumi.yaml. */
export function pulumiYamlConfigBlock(): string {
    return stringify({ config: projectDeclarations() }, { lineWidth: 0 });
}

const show = (v: unknown) => (v === undefined ? "" : `\`${JSON.stringify(v)}\``);

/** The README's inputs table. */
export function readmeInputsTable(): string {
    const rows = (Object.entries(CONFIG_KEYS) as [string, ConfigKeySpec][]).map(([key, s]) => {
        const required = s.required === true ? "yes" : "";
        const declared = isDeclared(s) ? "yes" : "";
        const type = `${s.type}${s.secret === true ? ", secret" : ""}`;
        const modes = (s.modes ?? ["protect", "recover", "drill"]).join(", ");
        return `| \`gitops-dr:${key}\` | ${s.description.replace(/\|/g, "\\|")} | ${type} | ${show(s.default)} | ${required} | ${modes} | ${declared} |`;
    });
    return ["| key | description | type | default | required | modes | in Pulumi.yaml |", "|---|---|---|---|---|---|---|", ...rows].join("\n");
}

if (require.main === module) {
    const what = process.argv[2] ?? "yaml";
    process.stdout.write(what === "readme" ? `${readmeInputsTable()}\n` : pulumiYamlConfigBlock());
}
