// certequiv from TypeScript (Node): look up what an applicant typed, then evaluate their
// certificates, over gRPC with connect-node and the stubs protoc-gen-es generates from proto/.
//
//   node dist/main.js http://HOST:PORT
//
// connect-node does not read a gRPC service config: the timeouts of examples/clients/
// service-config.json are given per call here (docs/clients.md).
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";

import {
  CertificateService,
  MatchKind,
  TitleLevel,
} from "./gen/certequiv/v1/catalog_pb.js";
import {
  BasicConditions,
  ConditionStatus,
  EquivalenceService,
  Verdict,
} from "./gen/certequiv/v1/equivalence_pb.js";

const LOOKUP_TIMEOUT_MS = 2_000;
const EVALUATE_TIMEOUT_MS = 5_000;

async function main(baseUrl: string): Promise<void> {
  // gRPC over HTTP/2, as the server speaks it (no Connect or gRPC-Web protocol needed).
  const transport = createGrpcTransport({ baseUrl });
  const certificates = createClient(CertificateService, transport);
  const equivalence = createClient(EquivalenceService, transport);

  for (const query of ["FCCA", "IEEE"]) {
    const answer = await certificates.searchCertificates(
      { query, pageSize: 3 },
      { timeoutMs: LOOKUP_TIMEOUT_MS },
    );
    console.log(
      `search ${JSON.stringify(query)}: ${answer.results.length} result(s) from ` +
        `${answer.catalogId}@${answer.catalogEtag}` +
        (answer.ambiguous ? " (ambiguous: ask the applicant)" : ""),
    );
    for (const result of answer.results) {
      const c = result.certificate;
      if (!c) continue;
      console.log(
        `  ${c.id}  ${c.nameZh}  TITLE_LEVEL_${TitleLevel[c.titleLevel]}  ` +
          `score ${result.score.toFixed(3)}  MATCH_KIND_${MatchKind[result.matchKind]} ` +
          `on ${result.matchedField} ${JSON.stringify(result.matchedText)}`,
      );
    }
  }

  const evaluation = await equivalence.evaluateEquivalence(
    {
      correlationId: "example-1",
      claims: [{ claim: { case: "text", value: "CFA charterholder" } }],
      applicant: {
        basicConditions: BasicConditions.CONFIRMED,
        workField: "金融",
      },
    },
    { timeoutMs: EVALUATE_TIMEOUT_MS },
  );
  console.log(
    `evaluate 'CFA charterholder' (basics confirmed, works in 金融): ` +
      `VERDICT_${Verdict[evaluation.verdict]}, ` +
      `highest level TITLE_LEVEL_${TitleLevel[evaluation.highestTitleLevel]}, ` +
      `decision ${evaluation.decisionId}`,
  );
  for (const condition of evaluation.conditions) {
    console.log(
      `  ${condition.code}: CONDITION_STATUS_${ConditionStatus[condition.status]} ` +
        `(${condition.source?.quoted ?? ""})`,
    );
  }
  console.log(`  ${evaluation.explanationEn}`);
}

const baseUrl = process.argv[2];
if (!baseUrl) {
  console.error("usage: node dist/main.js http://HOST:PORT");
  process.exit(2);
}
main(baseUrl).catch((error: unknown) => {
  const e = ConnectError.from(error);
  console.error(`call failed: ${Code[e.code]}: ${e.rawMessage}`);
  process.exit(1);
});
