/**
 * hyparquet-writer's page and metadata encoders, which its package exports as `./src/*.js` with
 * types in `types/` (a subpath map this project's `node` module resolution does not read).
 */
declare module "hyparquet-writer/src/datapage.js" {
  export * from "hyparquet-writer/types/datapage";
}
declare module "hyparquet-writer/src/dictionary.js" {
  export * from "hyparquet-writer/types/dictionary";
}
declare module "hyparquet-writer/src/metadata.js" {
  export * from "hyparquet-writer/types/metadata";
}
declare module "hyparquet-writer/src/snappy.js" {
  export * from "hyparquet-writer/types/snappy";
}
declare module "hyparquet-writer/src/encoding.js" {
  export * from "hyparquet-writer/types/encoding";
}
