import { expect } from "chai";
import { z } from "zod";
import { ConfigError, env, parseConfig } from "../src/config.js";

describe("config", () => {
  const schema = z.object({ DATABASE_URL: env.url(), PORT: env.port(4000), TRACE: env.bool(false) });

  it("applies defaults and coerces types", () => {
    expect(parseConfig(schema, { DATABASE_URL: "postgres://x@y/z", TRACE: "true" })).to.deep.equal({ DATABASE_URL: "postgres://x@y/z", PORT: 4000, TRACE: true });
  });

  it("names every missing or bad variable", () => {
    try {
      parseConfig(schema, { PORT: "99999" });
      expect.fail("should throw");
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigError);
      const message = (err as ConfigError).message;
      expect(message).to.include("DATABASE_URL").and.include("(missing)");
      expect(message).to.include("PORT");
    }
  });
});
