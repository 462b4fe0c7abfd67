"""Answer extraction for the multi-page document benchmarks (upstream's MMLongBench_auxeval in
vlmeval/dataset/mmlongbenchdoc.py, which DUDE and SlideVQA call too).

Every row goes to the judge (there is no rule-based prefetch): upstream's task description and four
in-context examples, then the question and the model's answer as 'Analysis'. Up to five tries at
temperatures 0, 0.5, ...; max_tokens 128 (upstream builds the judge with max_tokens=128). The
extracted answer is the text between 'Extracted answer:' and 'Answer format:' of the reply ('' when
the reply has no 'Extracted answer:'). The record's `extracted` is {"res": reply, "pred": answer}.
"""
from __future__ import annotations

from ..errors import InputError
from .mathvista import ask_with_retries  # the same 5 tries at max_tokens=128

# upstream's strings byte for byte ("\n" inside the triple-quoted strings are real newlines, so
# several lines end with an empty one; 'servife' and 'serve' are upstream's typos)
EXAMPLES = (
    """
---
Question: List the primary questions asked about the services in this report.
Analysis:  The primary questions asked about the services in the report for The Limes Residential Home are:\n\n
1. Is the service safe?\n
2. Is the service effective?\n
3. Is the service caring?\n
4. Is the service responsive?\n
5. Is the service well-led?
Extracted answer: [
    'Is the servife safe?',
    'Is the service effective',
    'Is the serve caring?',
    'Is the service responsive?',
    'Is the service well-led?'
]
Answer format: List\n
""",
    """
---
Question: How many regulations of the HSCA 2008 are breached in all according to this report?
Analysis: According to the report, the provider breached 10 Health and Social Care Act 2008 (Regulated Activities)
Regulations in total. Here are the specifics:\n\n1. Regulation 13: Safeguarding service users from abuse and
improper treatment\n2. Regulation 12: Safe care and treatment\n3. Regulation 18: Staffing\n4. Regulation 11:
Need for consent\n5. Regulation 10: Dignity and respect\n6. Regulation 9: Person-centred care\n7. Regulation 17:
Good governance\n8. Regulation 18 (CQC Registration Regulations 2009): Notification of other incidents\n9.
Regulation 18: Failure to maintain an accurate and up-to-date care plan\n10. Regulation 11: Failure to implement
the Mental Capacity Act 2005 code of practice effectively\n\nThese breaches involve issues concerning staffing,
safeguarding, medicines management, dignity and respect, consent, care planning, governance, and failure to
notify the CQC of incidents.
Extracted answer: 10
Answer format: Integer\n
""",
    """
---
Question: According to the survey that is the percentage of Chinese who are paying more or
about the same attention to politics after Trump's election?
Analysis: The survey provided does not specify the percentage of Chinese individuals specifically who are paying
more or about the same attention to politics after Trump's election. The report focuses primarily on American
demographics and does not include specific details about the Chinese population in relation to this question. If
you need information about a different demographic or a summary of the findings from the American demographic,
I can certainly help with that!
Extracted answer: Not answerable
Answer format: String\n
""",
    """
---
Question: How many quotations from male respondent over 50 years old are included in this report?
Analysis: The image you've provided appears to be a screenshot of a document with multiple charts. However, the
text is too small and blurry to read accurately. If you can provide a clearer image or more context, I might be
able to help you with your question.
Extracted answer: Fail to answer
Answer format: String\n
""",
)

TASK_DESCRIPTION = """
Given the question and analysis, you are tasked to extract answers with required formats from the free-form analysis.
- Your extracted answers should be one of the following formats: (1) Integer, (2) Float, (3) String and (4) List.
If you find the analysis the question can not be answered from the given documents, type "Not answerable".
Exception: If the analysis only tells you that it can not read/understand the images or documents,
type "Fail to answer".
- Please make your response as concise as possible. Also note that your response should be formatted as below:
```
Extracted answer: [answer]
Answer format: [answer format]
```
Please read the following example, then extract the answer from the model response
and type it at the end of the prompt.\n
"""


def judge_prompt(question, prediction) -> str:
    """Upstream's build_mmlongbench_gpt4_prompt (no space after 'Question:'; nothing after the analysis)."""
    prompt = TASK_DESCRIPTION + "".join(EXAMPLES)
    return prompt + "---\nQuestion:" + str(question) + "\n" + "Analysis: " + str(prediction)


def parse_reply(reply: str) -> str:
    try:
        return reply.split("Answer format:")[0].split("Extracted answer:")[1].strip()
    except IndexError:
        return ""


def extract_row(judge, line) -> dict:
    reply, log = ask_with_retries(judge, judge_prompt(line["question"], line["prediction"]), line["prediction"])
    if reply is None:
        return dict(index=line["index"], extracted=dict(res="", pred=""), log=log, method="judge")
    return dict(index=line["index"], extracted=dict(res=reply, pred=parse_reply(reply)), log=log, method="judge")


def extract(data, judge, dataset_name: str) -> list[dict]:
    from .parallel import map_rows

    if judge is None:
        raise InputError(f"{dataset_name} is scored from answers an LLM judge extracts (upstream: gpt-4o), and none "
                         "is configured: set judge.model.")
    if "question" not in data.columns:
        raise InputError(f"{dataset_name}: the predictions lack the 'question' column; score the prediction file "
                         f"made from the {dataset_name} TSV.")
    return map_rows(lambda line: extract_row(judge, line), data, judge)
