"""certequiv from Python: look up what an applicant typed, then evaluate their certificates.

    python main.py HOST:PORT

Prints the search results and the evaluation's verdict, conditions and explanation.
"""

import sys

import grpc

from certequiv_client import catalog_pb2, catalog_pb2_grpc, channel
from certequiv_client import equivalence_pb2, equivalence_pb2_grpc

TitleLevel = catalog_pb2.TitleLevel
MatchKind = catalog_pb2.MatchKind
Verdict = equivalence_pb2.Verdict
ConditionStatus = equivalence_pb2.ConditionStatus


def search(certificates: catalog_pb2_grpc.CertificateServiceStub, query: str) -> None:
    answer = certificates.SearchCertificates(
        catalog_pb2.SearchCertificatesRequest(query=query, page_size=3)
    )
    print(f"search {query!r}: {len(answer.results)} result(s) from "
          f"{answer.catalog_id}@{answer.catalog_etag}"
          + (" (ambiguous: ask the applicant)" if answer.ambiguous else ""))
    for result in answer.results:
        c = result.certificate
        print(f"  {c.id}  {c.name_zh}  {TitleLevel.Name(c.title_level)}  "
              f"score {result.score:.3f}  {MatchKind.Name(result.match_kind)} "
              f"on {result.matched_field} {result.matched_text!r}")


def evaluate(equivalence: equivalence_pb2_grpc.EquivalenceServiceStub) -> None:
    request = equivalence_pb2.EvaluateEquivalenceRequest(
        correlation_id="example-1",
        claims=[equivalence_pb2.CertificateClaim(text="CFA charterholder")],
        applicant=equivalence_pb2.ApplicantContext(
            basic_conditions=equivalence_pb2.BASIC_CONDITIONS_CONFIRMED,
            work_field="金融",
        ),
    )
    answer = equivalence.EvaluateEquivalence(request)
    print(f"evaluate 'CFA charterholder' (basics confirmed, works in 金融): "
          f"{Verdict.Name(answer.verdict)}, "
          f"highest level {TitleLevel.Name(answer.highest_title_level)}, "
          f"decision {answer.decision_id}")
    for condition in answer.conditions:
        print(f"  {condition.code}: {ConditionStatus.Name(condition.status)} "
              f"({condition.source.quoted})")
    print(f"  {answer.explanation_en}")


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with channel(sys.argv[1]) as ch:
        try:
            search(catalog_pb2_grpc.CertificateServiceStub(ch), "FCCA")
            search(catalog_pb2_grpc.CertificateServiceStub(ch), "IEEE")
            evaluate(equivalence_pb2_grpc.EquivalenceServiceStub(ch))
        except grpc.RpcError as error:
            print(f"call failed: {error.code().name}: {error.details()}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
