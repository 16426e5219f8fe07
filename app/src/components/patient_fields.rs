use leptos::prelude::*;

use crate::{
    components::geo_select::GeoSelect,
    model::{
        identifier::IdentifierConfig,
        patient_form::{PatientForm, BLOOD_GROUPS, GENDERS},
        Organization,
    },
};

/// The patient form's fields (registration and edit), with each field's error under it.
#[component]
pub fn PatientFields(
    /// The values being edited.
    form: RwSignal<PatientForm>,
    /// The chosen area (deepest govt organization).
    geo: RwSignal<Option<Organization>>,
    /// (field, message) pairs to show.
    errors: RwSignal<Vec<(String, String)>>,
    /// The identifiers the facility asks for (from its cached retrieve).
    #[prop(into)]
    identifiers: Signal<Vec<IdentifierConfig>>,
) -> impl IntoView {
    let error_for = move |field: &'static str| {
        move || {
            errors
                .with(|e| e.iter().find(|(f, _)| f == field).map(|(_, m)| m.clone()))
                .map(|m| {
                    view! { <span class="field__error" role="alert">{m}</span> }
                })
        }
    };
    let set = move |f: fn(&mut PatientForm, String)| {
        move |ev: leptos::ev::Event| form.update(|form| f(form, event_target_value(&ev)))
    };
    let changing_area = RwSignal::new(geo.get_untracked().is_none());
    view! {
                <label class="field">
                    <span class="field__label">"Name"</span>
                    <input class="field__input" name="name" prop:value=move || form.with(|f| f.name.clone()) on:input=set(|f, v| f.name = v)/>
                    {error_for("name")}
                </label>
                <label class="field">
                    <span class="field__label">"Phone number"</span>
                    <input class="field__input" name="phone_number" type="tel" placeholder="+91…" prop:value=move || form.with(|f| f.phone_number.clone()) on:input=set(|f, v| f.phone_number = v)/>
                    {error_for("phone_number")}
                </label>
                <label class="field field--inline">
                    <input type="checkbox" prop:checked=move || form.with(|f| f.same_emergency_phone)
                        on:change=move |ev| form.update(|f| f.same_emergency_phone = event_target_checked(&ev))/>
                    <span>"Emergency phone is the same"</span>
                </label>
                <Show when=move || !form.with(|f| f.same_emergency_phone)>
                    <label class="field">
                        <span class="field__label">"Emergency phone number"</span>
                        <input class="field__input" name="emergency_phone_number" type="tel" prop:value=move || form.with(|f| f.emergency_phone_number.clone()) on:input=set(|f, v| f.emergency_phone_number = v)/>
                    </label>
                </Show>
                {error_for("emergency_phone_number")}
                <fieldset class="field">
                    <legend class="field__label">"Gender"</legend>
                    {GENDERS.iter().map(|(value, label)| view! {
                        <label class="choice">
                            <input type="radio" name="gender" value=*value prop:checked=move || form.with(|f| f.gender == *value) on:change=set(|f, v| f.gender = v)/>
                            {*label}
                        </label>
                    }).collect_view()}
                    {error_for("gender")}
                </fieldset>
                <fieldset class="field">
                    <legend class="field__label">"Age or date of birth"</legend>
                    <label class="choice"><input type="radio" name="age_or_dob" value="dob" checked on:change=set(|f, v| f.age_or_dob = v)/>"Date of birth"</label>
                    <label class="choice"><input type="radio" name="age_or_dob" value="age" on:change=set(|f, v| f.age_or_dob = v)/>"Age"</label>
                    <Show when=move || form.with(|f| f.age_or_dob == "age")
                        fallback=move || view! {
                            <input class="field__input" name="date_of_birth" type="date" aria-label="Date of birth" prop:value=move || form.with(|f| f.date_of_birth.clone()) on:input=set(|f, v| f.date_of_birth = v)/>
                        }>
                        <input class="field__input" name="age" type="number" min="1" max="120" aria-label="Age in years" prop:value=move || form.with(|f| f.age.clone()) on:input=set(|f, v| f.age = v)/>
                    </Show>
                    {error_for("date_of_birth")}
                    {error_for("age")}
                </fieldset>
                <label class="field">
                    <span class="field__label">"Blood group"</span>
                    <select class="field__input" name="blood_group" on:change=set(|f, v| f.blood_group = v)>
                        <option value="">"Not known"</option>
                        {BLOOD_GROUPS.iter().map(|(v, l)| view! { <option value=*v selected=move || form.with(|f| f.blood_group == *v)>{*l}</option> }).collect_view()}
                    </select>
                    {error_for("blood_group")}
                </label>
                <label class="field">
                    <span class="field__label">"Address"</span>
                    <textarea class="field__input" name="address" prop:value=move || form.with(|f| f.address.clone()) on:input=set(|f, v| f.address = v)></textarea>
                    {error_for("address")}
                </label>
                <label class="field field--inline">
                    <input type="checkbox" prop:checked=move || form.with(|f| f.same_permanent_address)
                        on:change=move |ev| form.update(|f| f.same_permanent_address = event_target_checked(&ev))/>
                    <span>"Permanent address is the same"</span>
                </label>
                <Show when=move || !form.with(|f| f.same_permanent_address)>
                    <label class="field">
                        <span class="field__label">"Permanent address"</span>
                        <textarea class="field__input" name="permanent_address" prop:value=move || form.with(|f| f.permanent_address.clone()) on:input=set(|f, v| f.permanent_address = v)></textarea>
                    </label>
                </Show>
                {error_for("permanent_address")}
                <Show when=move || changing_area.get() fallback=move || view! {
                    <p class="field">
                        <span class="field__label">"Area"</span>
                        <span data-testid="current-area">{move || geo.get().map(|g| g.name).unwrap_or_default()}</span>
                        <button type="button" class="button" on:click=move |_| changing_area.set(true)>"Change area"</button>
                    </p>
                }>
                    <GeoSelect selected=geo/>
                </Show>
                {error_for("geo_organization")}
                <label class="field">
                    <span class="field__label">"Pincode"</span>
                    <input class="field__input" name="pincode" inputmode="numeric" prop:value=move || form.with(|f| f.pincode.clone()) on:input=set(|f, v| f.pincode = v)/>
                    {error_for("pincode")}
                </label>
                <For each=move || identifiers.get() key=|c| c.id.clone() let:config>
                    <IdentifierField config=config form=form errors=errors/>
                </For>
    }
}

/// One identifier the facility asks for (an ABHA number, a hospital number…).
#[component]
fn IdentifierField(
    config: IdentifierConfig,
    form: RwSignal<PatientForm>,
    errors: RwSignal<Vec<(String, String)>>,
) -> impl IntoView {
    let id = config.id.clone();
    let field = config.field();
    let label = if config.needs_value() {
        config.label().to_string()
    } else {
        format!("{} (optional)", config.label())
    };
    let hint = Some(config.config.description.trim().to_string()).filter(|d| !d.is_empty());
    let value = {
        let id = id.clone();
        move || form.with(|f| f.identifiers.get(&id).cloned().unwrap_or_default())
    };
    let on_input = move |ev: leptos::ev::Event| {
        let v = event_target_value(&ev);
        form.update(|f| {
            f.identifiers.insert(id.clone(), v);
        });
    };
    let error = move || {
        errors
            .with(|e| e.iter().find(|(f, _)| *f == field).map(|(_, m)| m.clone()))
            .map(|m| view! { <span class="field__error" role="alert">{m}</span> })
    };
    view! {
        <label class="field">
            <span class="field__label">{label.clone()}</span>
            <input class="field__input" name=format!("identifier-{}", config.id) aria-label=label prop:value=value on:input=on_input/>
            {hint.map(|h| view! { <span class="field__hint">{h}</span> })}
            {error}
        </label>
    }
}
