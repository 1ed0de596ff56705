"""What an upload costs the request (issue 23), counted through the form: every byte of a file
hashed once and encrypted once, copied at most once (into the chunk PyNaCl's public push is given), and
its ciphertext written about once per MiB, not once per 64 KiB chunk."""
from __future__ import annotations

import io

from streaming_form_data import StreamingFormDataParser

import crypto
from portal.intake import digests
from portal.web import server
from tests.support.discloser import ATTACHMENT, disclose


def test_a_large_file_is_hashed_once_encrypted_from_its_pieces_and_written_a_mib_at_a_time(client, installation,
                                                                                         monkeypatch):
    encryptors, digests_made, pieces, sink_writes = [], [], [], []
    real_init, real_write, real_give = (crypto.StreamEncryptor.__init__, crypto.StreamEncryptor.write,
                                        crypto.StreamEncryptor._give)
    real_digest_init = digests.ReceivedDigest.__init__

    def init(encryptor, *args, **kwargs):
        real_init(encryptor, *args, **kwargs)
        encryptors.append(encryptor)

    def write(encryptor, data):
        pieces.append(len(data))
        return real_write(encryptor, data)

    def give(encryptor, chunks):
        sink_writes.append(len(chunks))
        return real_give(encryptor, chunks)

    def digest_init(digest):
        real_digest_init(digest)
        digests_made.append(digest)

    monkeypatch.setattr(crypto.StreamEncryptor, "__init__", init)
    monkeypatch.setattr(crypto.StreamEncryptor, "write", write)
    monkeypatch.setattr(crypto.StreamEncryptor, "_give", give)
    monkeypatch.setattr(digests.ReceivedDigest, "__init__", digest_init)
    response = disclose(client)  # one file of 3 MiB and a bit, of no kind the checks clean
    assert response.status_code == 200, response.text

    [encryptor], [digest] = encryptors, digests_made
    assert digest.hashed == len(ATTACHMENT) == sum(pieces)  # each byte hashed once, encrypted once
    # PyNaCl's public push takes bytes: each byte is copied once, into its chunk, and never again.
    assert encryptor.copied <= len(ATTACHMENT)
    chunks = len(ATTACHMENT) // crypto.CHUNK_SIZE
    written = [n for n in sink_writes if n]
    assert sum(written) >= chunks - 1  # every chunk but the last few (pushed by close) ...
    assert len(written) <= len(pieces) + 1 < chunks // 4  # ... in one write per piece, not per chunk


def test_the_form_reader_gets_the_very_bytes_the_server_read(app, installation, monkeypatch):
    # Served by gunicorn, a body with a Content-Length reaches the form parser as gunicorn read it,
    # not through werkzeug's LimitedStream, which copies every piece twice (issue 23); a body cut
    # short is still refused (tests/intake/test_served_unfinished_upload.py).
    server_reads, parsed = [], []

    class ServerInput(io.BytesIO):  # as gunicorn's body: each read a bytes object of its own
        def read(self, size=-1):
            data = super().read(size)
            server_reads.append(data)
            return data

    def as_gunicorn_gives_it(wsgi_app):
        def served(environ, start_response):
            environ["wsgi.input"] = ServerInput(environ["wsgi.input"].read())
            environ["wsgi.input_terminated"] = True
            return wsgi_app(environ, start_response)
        return served

    real_data_received = StreamingFormDataParser.data_received

    def data_received(parser, data):
        parsed.append(data)
        return real_data_received(parser, data)

    monkeypatch.setattr(StreamingFormDataParser, "data_received", data_received)
    monkeypatch.setattr(app, "wsgi_app", as_gunicorn_gives_it(server._whole_body_or_400(app.wsgi_app)))
    response = disclose(app.test_client())
    assert response.status_code == 200, response.text
    assert sum(map(len, parsed)) > len(ATTACHMENT)
    assert all(any(piece is read for read in server_reads) for piece in parsed)
