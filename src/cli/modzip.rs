//! `agora mod zip|verify|hash`: for people publishing private modules, and for our own tests.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum ModCommand {
    /// Write the module zip of DIR and print its h1: hash last.
    Zip {
        /// Module path, e.g. example.com/m/v2.
        #[arg(long)]
        path: String,
        /// Canonical version, e.g. v2.1.0.
        #[arg(long)]
        version: String,
        dir: PathBuf,
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
    },
    /// Check a module zip made elsewhere and print its h1: hash last.
    Verify {
        #[arg(long)]
        path: String,
        #[arg(long)]
        version: String,
        file: PathBuf,
    },
    /// Print the h1: hash of a module zip, or of a module tree (which needs --path and --version,
    /// since the hash covers `path@version/` file names).
    Hash {
        #[arg(long, requires = "version")]
        path: Option<String>,
        #[arg(long, requires = "path")]
        version: Option<String>,
        target: PathBuf,
    },
}

pub fn run(cmd: ModCommand) -> anyhow::Result<()> {
    match cmd {
        ModCommand::Zip {
            path,
            version,
            dir,
            output,
        } => {
            // Refuse a missing or non-directory tree before creating the output.
            let meta = std::fs::metadata(&dir)
                .with_context(|| format!("module tree {}", dir.display()))?;
            if !meta.is_dir() {
                anyhow::bail!("module tree {}: not a directory", dir.display());
            }
            let file =
                File::create(&output).with_context(|| format!("creating {}", output.display()))?;
            let created =
                match gomod::zip::create_from_dir(BufWriter::new(file), &path, &version, &dir) {
                    Ok(c) => c,
                    Err(e) => {
                        let _ = std::fs::remove_file(&output);
                        let module = format!("{path}@{version}");
                        // Errors about the module itself already start with `path@version`.
                        if e.to_string().starts_with(&module) {
                            return Err(e.into());
                        }
                        return Err(e).context(module);
                    }
                };
            println!("{}", created.h1);
        }
        ModCommand::Verify {
            path,
            version,
            file,
        } => {
            let checked = gomod::zip::check_zip(&file, &path, &version)
                .with_context(|| format!("{}", file.display()))?;
            println!("{}", checked.h1);
        }
        ModCommand::Hash {
            path,
            version,
            target,
        } => {
            let h1 = if target.is_dir() {
                let (Some(path), Some(version)) = (path, version) else {
                    anyhow::bail!("hashing a directory needs --path and --version");
                };
                gomod::dirhash::hash_dir(&target, &format!("{path}@{version}"))
            } else {
                gomod::dirhash::hash_zip(&target)
            }
            .with_context(|| format!("{}", target.display()))?;
            println!("{h1}");
        }
    }
    Ok(())
}
