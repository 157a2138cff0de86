"""SQL for one stored version with a real zip, for the version page row of benches/run.sh's
scale section: synth.example/zipped@v1.0.0, 200 Go files and a LICENSE, kept in the database's
blob store as a single chunk (the synthetic rows around it name an empty blob)."""
import hashlib
import io
import zipfile

PREFIX = "synth.example/zipped@v1.0.0/"
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr(PREFIX + "go.mod", "module synth.example/zipped\n\ngo 1.21\n")
    z.writestr(PREFIX + "LICENSE", "Synthetic licence text.\n" * 40)
    for i in range(200):
        z.writestr(f"{PREFIX}pkg{i % 10}/f{i:03}.go", f"package pkg{i % 10}\n\nconst C{i} = {i}\n" * 20)
data = buf.getvalue()
sha = hashlib.sha256(data).hexdigest()
info = '{"Version":"v1.0.0","Time":"2024-01-02T03:04:05Z"}'
print(f"""BEGIN;
INSERT INTO blobs (sha256, size) VALUES ('{sha}', {len(data)});
INSERT INTO blob_chunks (sha256, seq, data) VALUES ('{sha}', 0, decode('{data.hex()}', 'hex'));
INSERT INTO modules (path) VALUES ('synth.example/zipped');
INSERT INTO versions (module_id, version, info, go_mod, zip_size, zip_sha256, zip_h1, mod_h1, source)
SELECT id, 'v1.0.0', convert_to('{info}', 'UTF8'),
       convert_to(E'module synth.example/zipped\\n\\ngo 1.21\\n', 'UTF8'),
       {len(data)}, '{sha}', 'h1:synthetic', 'h1:synthetic', 'synthetic'
FROM modules WHERE path = 'synth.example/zipped';
COMMIT;""")
