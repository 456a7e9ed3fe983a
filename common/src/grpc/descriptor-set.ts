import path from "node:path";

/** The descriptor set `buf build` writes beside the generated code (every package's services), served through reflection. */
export function descriptorSetPath(): string {
  return path.join(path.dirname(require.resolve("@apgms/proto/package.json")), "image.binpb");
}
