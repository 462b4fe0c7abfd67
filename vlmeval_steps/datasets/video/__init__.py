"""Video benchmarks (upstream's VideoBaseDataset family): data from a hub-layout folder, frames as file targets."""
