// Prettier settings of the OCA 18.0 repositories, as the template ships them
// (oca-addons-repo-template, src/{% if odoo_version >= 18 %}prettier.config.cjs{% endif %}).
// Versions pinned in package.json; `make lint` runs `prettier --check` with this file.
/** @type {import('prettier').Config} */
const config = {
    plugins: [require.resolve("@prettier/plugin-xml")],
    bracketSpacing: false,
    printWidth: 88,
    proseWrap: "always",
    semi: true,
    trailingComma: "es5",
    xmlWhitespaceSensitivity: "preserve",
};

module.exports = config;
