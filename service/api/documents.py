"""Documents and clauses: list, show (with references in), one clause, upload, delete."""
from __future__ import annotations

from pathlib import PurePath

from fastapi import APIRouter, Depends, File, UploadFile
from fastapi.concurrency import run_in_threadpool

from ingest.model import Clause
from ingest.pipeline import FileReport
from service.api.deps import clean_text, read_access, runtime, write_access
from service.api.errors import ApiError, ClauseNotFound
from service.runtime import Runtime
from service.schemas import DocumentSummary

router = APIRouter(tags=["documents"])


@router.get("/v1/documents", response_model=list[DocumentSummary], dependencies=[Depends(read_access)])
def documents(rt: Runtime = Depends(runtime)) -> list[DocumentSummary]:
    return rt.summaries()


@router.get("/v1/documents/{number:path}", dependencies=[Depends(read_access)])
def document(number: str, rt: Runtime = Depends(runtime)) -> dict:
    return rt.describe(clean_text(number))


@router.get("/v1/clauses/{clause_id:path}", response_model=Clause, dependencies=[Depends(read_access)])
def clause(clause_id: str, rt: Runtime = Depends(runtime)) -> Clause:
    try:
        return rt.clause(clean_text(clause_id))
    except KeyError:
        raise ClauseNotFound(clause_id) from None


@router.post("/v1/documents", response_model=list[FileReport], status_code=201,
             dependencies=[Depends(write_access)])
async def upload(file: UploadFile = File(...), rt: Runtime = Depends(runtime)) -> list[FileReport]:
    name = PurePath((file.filename or "upload.txt").replace("\\", "/")).name
    if not name or name in (".", "..") or name.startswith("."):
        raise ApiError(400, "bad_filename", "the upload has no usable file name")
    limit = rt.settings.max_upload_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise ApiError(413, "too_large", f"upload is over the {limit} byte limit (DQA_MAX_UPLOAD_BYTES)")
    return await run_in_threadpool(rt.ingest_upload, data, name)


@router.delete("/v1/documents/{number:path}", dependencies=[Depends(write_access)])
def delete(number: str, rt: Runtime = Depends(runtime)) -> dict:
    removed_number, removed = rt.remove(clean_text(number))
    return {"deleted": removed_number, "clauses": removed}
