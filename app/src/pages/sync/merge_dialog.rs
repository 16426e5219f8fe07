use leptos::prelude::*;
use serde_json::Value;

use crate::model::field_label::field_label;
use crate::offline::outbox::{
    engine::{diff_fields, Resolution},
    use_outbox, OutboxRecord,
};

fn show(v: &Value) -> String {
    match v {
        Value::Null => "—".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Base, mine and server per field: keep mine, keep the server's, choose per field, or
/// flag for review. The decision is recorded on the write.
#[component]
pub fn MergeDialog(
    /// The conflicted write.
    record: OutboxRecord,
    /// Closes the dialog.
    on_close: Callback<()>,
) -> impl IntoView {
    let outbox = use_outbox();
    let _ = outbox;
    let base = record.base_snapshot.clone().unwrap_or(Value::Null);
    let server = record.conflict_data.clone().unwrap_or(Value::Null);
    let fields = diff_fields(&base, &record.payload, &server);
    // Per field: true = mine. Default: what changed on one side only, else mine.
    let choices: Vec<(String, RwSignal<bool>)> = fields
        .iter()
        .map(|d| {
            (
                d.field.clone(),
                RwSignal::new(d.conflicting() || d.mine != d.base),
            )
        })
        .collect();
    let id = record.id.clone();
    let payload = record.payload.clone();
    let decide = {
        let choices = choices.clone();
        let fields = fields.clone();
        move |resolution: Resolution| {
            let merged = (resolution == Resolution::ClientWins).then(|| {
                let mut merged = payload.clone();
                for (d, (_, mine)) in fields.iter().zip(choices.iter()) {
                    merged[&d.field] = if mine.get_untracked() {
                        d.mine.clone()
                    } else {
                        d.server.clone()
                    };
                }
                merged
            });
            let _id = id.clone();
            let _ = (&_id, &merged);
            #[cfg(feature = "hydrate")]
            leptos::task::spawn_local(async move {
                outbox.resolve(&_id, resolution, merged).await;
            });
            on_close.run(());
        }
    };
    let (d1, d2, d3) = (decide.clone(), decide.clone(), decide);
    let choose_all = {
        let choices = choices.clone();
        move |mine: bool| choices.iter().for_each(|(_, c)| c.set(mine))
    };
    let (all_mine, all_server) = (choose_all.clone(), choose_all);
    view! {
        <div class="dialog" role="dialog" aria-label="Resolve conflict" data-testid="merge-dialog">
            <p>"This record was changed on the server after you edited it. Choose what to keep."</p>
            <table class="merge">
                <thead><tr><th scope="col">"Field"</th><th scope="col">"Before"</th><th scope="col">"Mine"</th><th scope="col">"Server"</th></tr></thead>
                <tbody>
                    {fields.iter().zip(choices.iter()).map(|(d, (field, mine))| {
                        let mine = *mine;
                        let name = format!("merge-{field}");
                        let label = field_label(field);
                        let (my_value, server_value) = (show(&d.mine), show(&d.server));
                        view! {
                            <tr class:merge__conflict=d.conflicting()>
                                <th scope="row">{label.clone()}</th>
                                <td>{show(&d.base)}</td>
                                <td><label><input type="radio" name=name.clone()
                                    aria-label=format!("{label}: keep mine ({my_value})")
                                    prop:checked=move || mine.get() on:change=move |_| mine.set(true)/>{my_value.clone()}</label></td>
                                <td><label><input type="radio" name=name
                                    aria-label=format!("{label}: keep the server's ({server_value})")
                                    prop:checked=move || !mine.get() on:change=move |_| mine.set(false)/>{server_value.clone()}</label></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <div class="write__actions">
                <button class="button" on:click=move |_| all_mine(true)>"All mine"</button>
                <button class="button" on:click=move |_| all_server(false)>"All server"</button>
                <button class="button button--primary-inline" on:click=move |_| d1(Resolution::ClientWins)>"Save my choices"</button>
                <button class="button" on:click=move |_| d2(Resolution::ServerWins)>"Keep server version"</button>
                <button class="button" on:click=move |_| d3(Resolution::Manual)>"Flag for review"</button>
                <button class="button" on:click=move |_| on_close.run(())>"Cancel"</button>
            </div>
        </div>
    }
}
